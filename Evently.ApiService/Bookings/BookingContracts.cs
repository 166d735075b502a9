using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Bookings;
using Microsoft.AspNetCore.Mvc;

namespace Evently.ApiService.Bookings;

/// <summary>Body of POST /api/bookings: a quantity, or the seats wanted on a seated event.</summary>
/// <remarks>The attributes state for the OpenAPI document what BookingRules.Validate checks (see OpenApiSchemaRules).</remarks>
[Description("Give quantity, or seatIds, or both when quantity equals the number of seats: at least one of the two (400 otherwise).")]
public sealed record CreateBookingRequest(
    [property: Required, Range(1, long.MaxValue), Description("The event's id. An id below 1 is refused as invalid (400); " +
        "an id of no event, or of a cancelled one, answers 404.")] long? EventId,
    [property: Range(1, BookingRules.MaxTicketsPerBooking), Description("Tickets wanted; leave out when choosing seats.")] int? Quantity = null,
    [property: Length(1, BookingRules.MaxTicketsPerBooking), UniqueItems,
        Description("Seats to book on a seated event (from GET /api/events/{id}/seats), each once.")]
    IReadOnlyList<long>? SeatIds = null);

public sealed record ChangeSeatsRequest(
    [property: Required, Length(1, BookingRules.MaxTicketsPerBooking), UniqueItems,
        Description("Exactly as many seats as the booking has tickets, each once.")] IReadOnlyList<long>? SeatIds);

public sealed record BookingListQuery(
    [property: Description("Both when left out."), EnumValues(typeof(BookingStatus))] [FromQuery(Name = "status")] string? Status)
{
    // Parsed here rather than bound as an enum: binding is case-sensitive and the contract's values are lower-case.
    public bool TryGetStatus(out BookingStatus? status)
    {
        status = null;
        if (Status is null)
        {
            return true;
        }
        if (Enum.GetNames<BookingStatus>().FirstOrDefault(n => n.Equals(Status, StringComparison.OrdinalIgnoreCase)) is { } name)
        {
            status = Enum.Parse<BookingStatus>(name);
            return true;
        }
        return false;
    }
}

public sealed record BookedSeat(long Id, string Section, string Row, int Number);

public sealed record BookingResponse(
    long Id, long EventId, string EventName, int Quantity, IReadOnlyList<BookedSeat> Seats, BookingStatus Status,
    DateTime CreatedAt, DateTime? CancelledAt)
{
    public static BookingResponse From(Booking booking) => new(
        booking.Id,
        booking.EventId,
        booking.Event?.Name ?? "",
        booking.Quantity,
        booking.Seats.Where(s => s.Seat is not null)
            .Select(s => new BookedSeat(s.SeatId, s.Seat!.Section, s.Seat.Row, s.Seat.Number))
            .OrderBy(s => s.Section).ThenBy(s => s.Row.Length).ThenBy(s => s.Row).ThenBy(s => s.Number)
            .ToList(),
        booking.StatusAsRead,
        booking.CreatedAt,
        booking.CancelledAtAsRead);
}

/// <summary>The contract's <c>BookingRequest</c>: a request of a high-demand event, queued until the worker answers it.</summary>
public sealed record BookingRequestResponse(
    long RequestId, long EventId, int Quantity, BookingRequestStatus Status,
    [property: Description("While queued: how many requests of the event are ahead of this one.")] long? Position,
    [property: Description("Once confirmed: the booking made.")] long? BookingId,
    [property: Description("Once rejected: sold-out, event-cancelled, event-started, seat-taken, or idempotency-key-reused (the key was used for another request while this one was queued).")] string? Reason,
    [property: Description("While queued with a position: about how many seconds until the answer, at the drain rate measured so far " +
        "(an estimate, not a promise; absent until the rate is known).")] int? EstimatedWaitSeconds = null,
    [property: Description("While in the pre-queue (before the sale opens): when it opens. At the opening the pre-queue is shuffled " +
        "into a random order, ahead of everyone who comes later; then the request gets its position.")] DateTime? OpensAt = null)
{
    public static BookingRequestResponse From(QueuedRequestState state) => new(
        state.RequestId, state.EventId, state.Quantity, state.Status, state.Position, state.BookingId, state.Reason,
        state.EstimatedWaitSeconds, state.OpensAt);
}
