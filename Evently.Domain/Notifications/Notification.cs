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

    // Set once the e-mail went out; the worker sends the ones still NULL, unless the notification is in-app only.
    public DateTime? EmailedAt { get; set; }

    // Never e-mailed (NotificationKinds.IsInAppOnly): the notification is the whole message.
    public bool InAppOnly { get; set; }

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

    /// <summary>
    /// Kinds shown in the app only, never e-mailed: a queued request's rejection, which its buyer is watching when it is
    /// answered (one on-sale rejects most requests; a mail for each would flood buyers and the mail server alike).
    /// </summary>
    public static bool IsInAppOnly(string kind) => kind == BookingRejected;
}
