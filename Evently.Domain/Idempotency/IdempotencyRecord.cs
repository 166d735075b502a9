namespace Evently.Domain.Idempotency;

/// <summary>
/// What a user's Idempotency-Key was first used for, and what it made: the one record every path that honours
/// the key writes and reads (direct, grouped and queued bookings, waitlist claims, event creation). Written in
/// the transaction of the change it records, so a key's first request fixes its outcome for good.
/// </summary>
public sealed class IdempotencyRecord
{
    public long UserId { get; set; }

    // Compared byte for byte: 'Key-abc' and 'key-ABC' are two keys.
    public required string IdempotencyKey { get; set; }

    // What the key was first used for (the operation and its arguments), so that a repeat is recognised, and a
    // reuse for another request refused, whatever happened to the outcome since (a booking's seats may change).
    public required string Fingerprint { get; set; }

    public IdempotentOutcome Outcome { get; set; }

    // The booking, the queued request or the event the key made.
    public long OutcomeId { get; set; }

    public DateTime CreatedAt { get; set; }
}

public enum IdempotentOutcome
{
    Booking,
    BookingRequest,
    Event
}
