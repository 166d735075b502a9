using Evently.Domain.Common;

namespace Evently.Domain.Bookings;

public static class BookingErrors
{
    public static readonly DomainError NotFound = DomainError.NotFound("The booking");

    public static readonly DomainError RequestNotFound = DomainError.NotFound("The booking request");

    public static readonly DomainError TooManyQueued = new(ErrorKind.Conflict, "too-many-queued",
        $"You already have {BookingQueue.MaxQueuedTicketsPerUser} tickets queued for this event: wait for their answers.");

    public static readonly DomainError EventNotFound = DomainError.NotFound("The event (or it is cancelled)");

    /// <summary>
    /// Never answered: a direct booking of an event that has become high-demand since the caller read its facts, which the
    /// caller then queues instead.
    /// </summary>
    public static readonly DomainError HighDemand =
        new(ErrorKind.Conflict, "high-demand", "This event takes bookings through its queue.");

    public static readonly DomainError SoldOut =
        new(ErrorKind.Conflict, "sold-out", "Not enough tickets are left for this event.");

    public static readonly DomainError SeatTaken =
        new(ErrorKind.Conflict, "seat-taken", "One or more of the chosen seats are no longer available.");

    public static readonly DomainError EventStarted =
        new(ErrorKind.Unprocessable, "event-started", "The event has already started.");

    public static DomainError NotOnSale(DateTime salesStartAt) => new(ErrorKind.Conflict, "not-on-sale",
        $"Bookings for this event open at {salesStartAt:yyyy-MM-ddTHH:mm:ss.FFFFFFF}Z.",
        Extensions: new Dictionary<string, object> { ["salesStartAt"] = salesStartAt });

    public static readonly DomainError IdempotencyKeyReused = Idempotency.IdempotencyErrors.KeyReused;

    public static readonly DomainError NotConfirmed =
        new(ErrorKind.Conflict, "booking-cancelled", "The booking is cancelled.");

    public static DomainError Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        new(ErrorKind.Invalid, "validation", "One or more fields are invalid; see 'errors'.", errors);

    public static DomainError InvalidSeats(string message) =>
        Invalid(new Dictionary<string, string[]> { ["seatIds"] = [message] });

    public static readonly DomainError SeatsRequired = Invalid(new Dictionary<string, string[]>
    {
        ["seatIds"] = ["This event has numbered seats: choose them with seatIds."]
    });
}
