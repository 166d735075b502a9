using Evently.Domain.Common;

namespace Evently.Domain.Events;

public static class EventErrors
{
    public static readonly DomainError NotFound = DomainError.NotFound("The event");

    public static readonly DomainError Cancelled =
        new(ErrorKind.Conflict, "event-cancelled", "The event is cancelled and can no longer be changed.");

    public static DomainError CapacityBelowBooked(int taken) =>
        new(ErrorKind.Conflict, "capacity-below-booked",
            $"Capacity cannot fall below the {taken} tickets already booked or held.");

    public static readonly DomainError SeatingLocked =
        new(ErrorKind.Conflict, "seating-locked", "The seat layout cannot change once seats have been booked or held.");

    // The database compares section names as the column collation does (case and accent blind).
    public static readonly DomainError DuplicateSeats = new(ErrorKind.Invalid, "validation",
        "Two sections of the layout have the same name.",
        new Dictionary<string, string[]> { ["seating.sections"] = ["Section names must be unique (ignoring case and accents)."] });
}
