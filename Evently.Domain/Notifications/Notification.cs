namespace Evently.Domain.Notifications;

public sealed class Notification
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public required string Kind { get; set; }
    public long? EventId { get; set; }
    public required string Message { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ReadAt { get; set; }

    // Set once the e-mail went out; the worker sends the ones still NULL.
    public DateTime? EmailedAt { get; set; }
}

public static class NotificationKinds
{
    public const string WaitlistOffer = "waitlist-offer";
    public const string OfferExpired = "offer-expired";
    public const string BookingConfirmed = "booking-confirmed";
    public const string BookingRejected = "booking-rejected";
    public const string EventCancelled = "event-cancelled";
    public const string EventChanged = "event-changed";
}
