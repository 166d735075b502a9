using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Evently.Domain.Bookings;

/// <summary>An on-sale as an admin watches it: who waits where, what was answered, and how fast the queue moves.</summary>
public sealed record QueueReport(
    long EventId, long PreQueued, long Queued, long Answered, long Confirmed, long Rejected, double? DrainRate,
    double? OldestWaitSeconds, DateTime? OpensAt, bool Opened);

/// <summary>
/// Reads the report: the waiting side from Redis (the pre-queue, the stream and the late list, the drain rate), the
/// answers from the database (exact, from the index on booking_requests (EventId, Status)).
/// </summary>
public sealed class QueueReports(IConnectionMultiplexer redis, EventlyDbContext db, TimeProvider timeProvider)
{
    public async Task<QueueReport> ReadAsync(long eventId, CancellationToken cancellationToken)
    {
        var redisDb = redis.GetDatabase();
        var arrivals = redisDb.ListLengthAsync(QueueKeys.PreQueueArrivals(eventId));
        var unplaced = redisDb.ListLengthAsync(QueueKeys.PreQueueOrder(eventId));
        var late = redisDb.ListLengthAsync(QueueKeys.Late(eventId));
        var stream = redisDb.StreamLengthAsync(QueueKeys.Stream(eventId));
        var head = redisDb.StreamRangeAsync(QueueKeys.Stream(eventId), count: 1);
        var firstArrival = redisDb.ListGetByIndexAsync(QueueKeys.PreQueueArrivals(eventId), 0);
        var opened = redisDb.KeyExistsAsync(QueueKeys.Opened(eventId));
        var figures = QueueFigures.ReadAsync(redisDb, eventId);

        var answers = await db.BookingRequests.Where(r => r.EventId == eventId).GroupBy(r => r.Status)
            .Select(g => new { Status = g.Key, Count = g.LongCount() }).ToDictionaryAsync(g => g.Status, g => g.Count, cancellationToken);
        var confirmed = answers.GetValueOrDefault(BookingRequestStatus.Confirmed);
        var rejected = answers.GetValueOrDefault(BookingRequestStatus.Rejected);

        // The oldest request not yet answered: the head of the stream, or else the first to join the pre-queue.
        long? oldestTicks = (await head).FirstOrDefault() is { IsNull: false } entry && long.TryParse((string?)entry["at"], out var at) ? at : null;
        if (oldestTicks is null && await firstArrival is { IsNull: false } id)
        {
            oldestTicks = (long?)await redisDb.HashGetAsync(QueueKeys.Request((long)id), "at");
        }
        var now = timeProvider.GetUtcNow().UtcDateTime;
        // From the opening the drawn order holds the pre-queue not yet placed in the stream.
        var preQueued = await unplaced > 0 ? await unplaced : await arrivals;
        return new QueueReport(eventId, preQueued, await stream + await late, confirmed + rejected, confirmed, rejected,
            (await figures).DrainRate, oldestTicks is { } ticks ? Math.Round(Math.Max(0, (now - new DateTime(ticks, DateTimeKind.Utc)).TotalSeconds), 3) : null,
            (await figures).OpensAt, await opened);
    }
}
