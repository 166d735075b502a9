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
}

public enum WaitlistStatus
{
    Waiting,
    Offered,
    Booked,
    Expired,
    Left
}
