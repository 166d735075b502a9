namespace Evently.Domain.Waitlist;

public sealed class WaitlistEntry
{
    public long Id { get; set; }
    public long EventId { get; set; }
    public long UserId { get; set; }
    public int Quantity { get; set; }
    public WaitlistStatus Status { get; set; } = WaitlistStatus.Waiting;
    public DateTime? OfferExpiresAt { get; set; }
    public DateTime CreatedAt { get; set; }

    // true while waiting or offered, NULL after: a unique index on (UserId, EventId, Active) keeps one
    // live entry per user and event, however many joins race.
    public bool? Active { get; set; } = true;

    // The seats an offer holds on a seated event, in order, comma-separated.
    public string? HeldSeatIds { get; set; }

    // The booking a claim made: a repeated claim answers with it.
    public long? BookingId { get; set; }

    public IReadOnlyList<long> HeldSeats() =>
        string.IsNullOrEmpty(HeldSeatIds) ? [] : HeldSeatIds.Split(',').Select(long.Parse).ToList();
}

public enum WaitlistStatus
{
    Waiting,
    Offered,
    Booked,
    Expired,
    Left
}
