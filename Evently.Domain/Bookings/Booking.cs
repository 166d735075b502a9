using Evently.Domain.Events;

namespace Evently.Domain.Bookings;

public sealed class Booking
{
    public long Id { get; set; }
    public long EventId { get; set; }
    public long UserId { get; set; }
    public int Quantity { get; set; }
    public BookingStatus Status { get; set; } = BookingStatus.Confirmed;
    public DateTime CreatedAt { get; set; }
    public DateTime? CancelledAt { get; set; }

    // Made by the app for each try of a booking call and unique in the database: after a lost reply the
    // caller asks whether a booking with this token exists, whichever packet went missing. (Repeats of a
    // client's request are recognised by its Idempotency-Key, in the ledger: see IdempotencyLedger.)
    public Guid? AttemptId { get; set; }

    public Event? Event { get; set; }
    public List<BookingSeat> Seats { get; set; } = [];

    // A booking of a cancelled event is cancelled from the event's cancel on, although the worker cancels the rows in
    // batches after it (EventCascades), with the cancel's time, which the cancel also wrote as the event's UpdatedAt.
    // What a holder reads and does (GET, the list's status filter, DELETE, a seat change) goes by these; Event loaded.

    /// <summary>The status the holder reads: cancelled once the booking or its event is.</summary>
    public BookingStatus StatusAsRead => Event?.Status == EventStatus.Cancelled ? BookingStatus.Cancelled : Status;

    /// <summary>When the booking was cancelled, or its event, as the holder reads it.</summary>
    public DateTime? CancelledAtAsRead => CancelledAt ?? (Event?.Status == EventStatus.Cancelled ? Event.UpdatedAt : null);
}

public enum BookingStatus
{
    Confirmed,
    Cancelled
}

/// <summary>A seat a booking holds (Active) or once held (history of cancelled bookings and seat changes).</summary>
public sealed class BookingSeat
{
    public long BookingId { get; set; }
    public long SeatId { get; set; }

    // true while the booking holds the seat, NULL once released. A unique index on (SeatId, Active)
    // lets any number of released rows exist but only one holder: a double booking cannot be stored.
    public bool? Active { get; set; }

    public Seat? Seat { get; set; }
}

/// <summary>A booking request for a high-demand event, queued on a Redis stream and answered by the worker.</summary>
public sealed class BookingRequest
{
    public long Id { get; set; }
    public long EventId { get; set; }
    public long UserId { get; set; }
    public int Quantity { get; set; }

    // Seat ids as a comma-separated list, for seated high-demand events.
    public string? SeatIds { get; set; }
    public BookingRequestStatus Status { get; set; } = BookingRequestStatus.Queued;
    public long? BookingId { get; set; }
    public string? Reason { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ProcessedAt { get; set; }
}

public enum BookingRequestStatus
{
    Queued,
    Confirmed,
    Rejected
}
