using Evently.Domain.Common;
using Evently.Domain.Events;

namespace Evently.Domain.Bookings;

/// <summary>What a booking asks for: a quantity of tickets, or particular seats.</summary>
public sealed record BookingCommand(long UserId, long EventId, int? Quantity, IReadOnlyList<long>? SeatIds, string? IdempotencyKey);

// The shape rules of a booking request, checked before the database is asked anything.
public static class BookingRules
{
    public const int MaxTicketsPerBooking = 10;
    public const int MaxIdempotencyKeyLength = 64;

    public static DomainError? Validate(BookingCommand command)
    {
        var errors = new Dictionary<string, string[]>();
        var seatIds = command.SeatIds;

        if (command.EventId < 1)
        {
            errors["eventId"] = ["eventId is required."];
        }
        if (seatIds is null && command.Quantity is null)
        {
            errors["quantity"] = ["Give either quantity or seatIds."];
        }
        if (command.Quantity is { } quantity && (quantity < 1 || quantity > MaxTicketsPerBooking))
        {
            errors["quantity"] = [$"quantity must be between 1 and {MaxTicketsPerBooking}."];
        }
        if (seatIds is not null)
        {
            if (seatIds.Count is < 1 or > MaxTicketsPerBooking)
            {
                errors["seatIds"] = [$"Choose between 1 and {MaxTicketsPerBooking} seats."];
            }
            else if (seatIds.Distinct().Count() != seatIds.Count)
            {
                errors["seatIds"] = ["A seat can be chosen only once."];
            }
            else if (command.Quantity is { } q && q != seatIds.Count)
            {
                errors["quantity"] = ["quantity must equal the number of seats chosen (or be left out)."];
            }
        }
        if (command.IdempotencyKey is { Length: > MaxIdempotencyKeyLength })
        {
            errors["Idempotency-Key"] = [$"The Idempotency-Key header may be at most {MaxIdempotencyKeyLength} characters."];
        }

        return errors.Count == 0 ? null : BookingErrors.Invalid(errors);
    }

    /// <summary>Whether the event (and the seats looked up for the command) can take this booking at all.</summary>
    public static DomainError? CheckEvent(Event? evt, BookingCommand command, IReadOnlyList<Seat> seats, DateTime now)
    {
        if (evt is null || evt.Status == EventStatus.Cancelled)
        {
            return BookingErrors.EventNotFound;
        }
        if (evt.StartsAt <= now)
        {
            return BookingErrors.EventStarted;
        }
        if (evt.HasSeating && command.SeatIds is null)
        {
            return BookingErrors.SeatsRequired;
        }
        if (command.SeatIds is { } seatIds)
        {
            if (!evt.HasSeating)
            {
                return BookingErrors.InvalidSeats("This event has no numbered seats: book a quantity instead.");
            }
            if (seats.Count != seatIds.Count)
            {
                return BookingErrors.InvalidSeats($"Unknown seat ids: {string.Join(", ", seatIds.Except(seats.Select(s => s.Id)))}.");
            }
            if (seats.Any(s => s.EventId != evt.Id))
            {
                return BookingErrors.InvalidSeats("Some seats belong to another event.");
            }
        }
        return null;
    }

    /// <summary>What a request asks for, as stored with its Idempotency-Key: event, tickets and the seats in order.</summary>
    public static string Fingerprint(BookingCommand command) =>
        $"event:{command.EventId};tickets:{Tickets(command)};seats:{string.Join(",", command.SeatIds?.Order() ?? Enumerable.Empty<long>())}";

    /// <summary>How many tickets the command books: the seats chosen, or the quantity.</summary>
    public static int Tickets(BookingCommand command) => command.SeatIds?.Count ?? command.Quantity ?? 0;
}

public static class BookingErrors
{
    public static readonly DomainError NotFound = DomainError.NotFound("The booking");

    public static readonly DomainError RequestNotFound = DomainError.NotFound("The booking request");

    public static readonly DomainError TooManyQueued = new(ErrorKind.Conflict, "too-many-queued",
        $"You already have {BookingQueue.MaxQueuedTicketsPerUser} tickets queued for this event: wait for their answers.");

    public static readonly DomainError EventNotFound = DomainError.NotFound("The event (or it is cancelled)");

    public static readonly DomainError SoldOut =
        new(ErrorKind.Conflict, "sold-out", "Not enough tickets are left for this event.");

    public static readonly DomainError SeatTaken =
        new(ErrorKind.Conflict, "seat-taken", "One or more of the chosen seats are no longer available.");

    public static readonly DomainError EventStarted =
        new(ErrorKind.Unprocessable, "event-started", "The event has already started.");

    public static readonly DomainError IdempotencyKeyReused = new(ErrorKind.Unprocessable, "idempotency-key-reused",
        "This Idempotency-Key was already used for a different booking request.");

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
