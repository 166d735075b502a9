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

    // Delivery bookkeeping of the worker's mail sender: refused attempts so far, when to try next (also a
    // lease: a sender moves it forward before it sends), and when it gave up.
    public int EmailAttempts { get; set; }
    public DateTime? NextEmailAttemptAt { get; set; }
    public DateTime? EmailFailedAt { get; set; }

    // W3C traceparent of the request that caused it, so the mail joins that trace.
    public string? TraceParent { get; set; }
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
