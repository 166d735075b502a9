namespace Evently.Domain.Infrastructure;

/// <summary>
/// A fact written in the same transaction as the change it describes (tickets freed, event cancelled),
/// so the worker learns of it even if the process crashes right after the commit.
/// </summary>
public sealed class OutboxMessage
{
    public long Id { get; set; }
    public required string Kind { get; set; }
    public long EventId { get; set; }
    public int Quantity { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ProcessedAt { get; set; }

    // For work done in batches (notifying an event's holders): how far it has got, the last user id notified.
    public long? Cursor { get; set; }

    // What to tell them, as it was when the row was written (an event changed again meanwhile keeps its notice).
    public string? Message { get; set; }

    // W3C traceparent of the request that wrote it: the worker continues that trace.
    public string? TraceParent { get; set; } = System.Diagnostics.Activity.Current?.Id;
}

public static class OutboxKinds
{
    public const string TicketsFreed = "tickets-freed";
    public const string EventCancelled = "event-cancelled";
    public const string OfferExpired = "offer-expired";
    public const string EventChanged = "event-changed";
}
