using StackExchange.Redis;

namespace Evently.Domain.Bookings;

/// <summary>
/// An event's queue as a buyer's place is read against: the highest position answered, the measured drain rate
/// (answers per second; null until two batches have been timed) and, before the pre-queue is shuffled, when the sale opens.
/// </summary>
public sealed record QueueFigures(long Answered, double? DrainRate, DateTime? OpensAt)
{
    /// <summary>How many requests are ahead of the one with this sequence number.</summary>
    public long PositionOf(long sequence) => Math.Max(0, sequence - Answered - 1);

    /// <summary>
    /// How long, at the measured rate, until the requests ahead and this one are answered: an estimate that holds while
    /// the worker drains at the pace it had, not a promise (null until the rate is measured).
    /// </summary>
    public int? EstimatedWaitSeconds(long ahead) =>
        DrainRate is > 0 and { } rate ? (int)Math.Ceiling((ahead + 1) / rate) : null;

    /// <summary>The figures in one round trip (the commands are pipelined).</summary>
    public static async Task<QueueFigures> ReadAsync(IDatabaseAsync db, long eventId)
    {
        var answered = db.StringGetAsync(QueueKeys.Answered(eventId));
        var rate = db.HashGetAsync(QueueKeys.DrainRate(eventId), "rate");
        var opens = db.StringGetAsync(QueueKeys.Opens(eventId));
        var opened = db.KeyExistsAsync(QueueKeys.Opened(eventId));
        return new QueueFigures((long?)await answered ?? 0, (double?)await rate,
            await opened ? null : (long?)await opens is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime : null);
    }
}
