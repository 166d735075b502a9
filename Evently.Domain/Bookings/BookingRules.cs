using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Idempotency;

namespace Evently.Domain.Bookings;

/// <summary>What a booking asks for: a quantity of tickets, or particular seats.</summary>
public sealed record BookingCommand(long UserId, long EventId, int? Quantity, IReadOnlyList<long>? SeatIds, string? IdempotencyKey);

// The shape rules of a booking request, checked before the database is asked anything.
public static class BookingRules
{
    public const int MaxTicketsPerBooking = 10;

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
        if (command.IdempotencyKey is { Length: > IdempotencyLedger.MaxKeyLength })
        {
            errors["Idempotency-Key"] = [$"The Idempotency-Key header may be at most {IdempotencyLedger.MaxKeyLength} characters."];
        }

        return errors.Count == 0 ? null : BookingErrors.Invalid(errors);
    }

    /// <summary>Whether the event can take this booking at all: open, not started, and the seats (if any) its own.</summary>
    public static DomainError? CheckEvent(EventFacts? evt, BookingCommand command, DateTime now)
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
            var foreign = seatIds.Where(id => !evt.HasSeat(id)).ToList();
            if (foreign.Count > 0)
            {
                return BookingErrors.InvalidSeats($"Not seats of this event (unknown, or another event's): {string.Join(", ", foreign)}.");
            }
        }
        return null;
    }

    /// <summary>Whether a direct booking may be made yet: not before the event's sale opens (a high-demand event pre-queues instead).</summary>
    public static DomainError? CheckOnSale(EventFacts evt, DateTime now) =>
        evt.Status == EventStatus.Scheduled && !evt.OnSale(now) ? BookingErrors.NotOnSale(evt.SalesStartAt!.Value) : null;

    /// <summary>What a request asks for, as stored with its Idempotency-Key: event, tickets and the seats in order.</summary>
    public static string Fingerprint(BookingCommand command) =>
        $"event:{command.EventId};tickets:{Tickets(command)};seats:{string.Join(",", command.SeatIds?.Order() ?? Enumerable.Empty<long>())}";

    /// <summary>How many tickets the command books: the seats chosen, or the quantity.</summary>
    public static int Tickets(BookingCommand command) => command.SeatIds?.Count ?? command.Quantity ?? 0;
}

