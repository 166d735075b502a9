using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Evently.ApiService.Events;

/// <summary>What the booking intake needs to know of an event, without asking the database.</summary>
public sealed record EventFacts(long Id, EventStatus Status, DateTime StartsAt, bool HighDemand, bool HasSeating);

/// <summary>
/// Event facts in Redis, filled from the database on a miss and evicted by every admin change (so a
/// high-demand on-sale takes no database read per request). An entry filled just before a change can
/// outlive its eviction for at most its short lifetime; the worker checks the event again in the
/// database, so a stale entry can delay a refusal, never book a cancelled event.
/// </summary>
public sealed class EventFactsCache(IConnectionMultiplexer redis, TimeProvider timeProvider, ILogger<EventFactsCache> logger)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    // In front of Redis, per process, for a second: a booking of a hot event costs no round trip for its facts.
    // Another replica's eviction reaches this copy within that second.
    private static readonly TimeSpan LocalLifetime = TimeSpan.FromSeconds(1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, (EventFacts Facts, DateTimeOffset Until)> _local = new();

    private static RedisKey Key(long eventId) => $"evently:event:{eventId}:facts";

    /// <returns>The facts (null for an unknown event), and whether Redis answered.</returns>
    public async Task<(EventFacts? Facts, bool RedisUp)> GetAsync(long eventId, EventlyDbContext db, CancellationToken cancellationToken)
    {
        if (_local.TryGetValue(eventId, out var local) && local.Until > timeProvider.GetUtcNow())
        {
            return (local.Facts, true);
        }
        var (facts, redisUp) = await GetSharedAsync(eventId, db, cancellationToken);
        if (facts is not null && redisUp)
        {
            _local[eventId] = (facts, timeProvider.GetUtcNow() + LocalLifetime);
        }
        return (facts, redisUp);
    }

    private async Task<(EventFacts? Facts, bool RedisUp)> GetSharedAsync(long eventId, EventlyDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            var fields = await redis.GetDatabase().HashGetAllAsync(Key(eventId));
            if (fields.Length > 0)
            {
                var f = fields.ToDictionary(x => x.Name.ToString(), x => x.Value);
                return (new EventFacts(eventId, Enum.Parse<EventStatus>(f["status"].ToString()), new DateTime((long)f["starts"], DateTimeKind.Utc),
                    (bool)f["high"], (bool)f["seated"]), true);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Event facts are not available from Redis; reading the database");
            return (await ReadAsync(eventId, db, cancellationToken), false);
        }

        var facts = await ReadAsync(eventId, db, cancellationToken);
        if (facts is not null)
        {
            await StoreAsync(facts);
        }
        return (facts, true);
    }

    public async ValueTask EvictAsync(long eventId)
    {
        _local.TryRemove(eventId, out _);
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(Key(eventId));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Could not evict the facts of event {EventId}; they expire within {Lifetime}", eventId, Lifetime);
        }
    }

    private static Task<EventFacts?> ReadAsync(long eventId, EventlyDbContext db, CancellationToken ct) =>
        db.Events.AsNoTracking().Where(e => e.Id == eventId)
            .Select(e => new EventFacts(e.Id, e.Status, e.StartsAt, e.HighDemand, e.HasSeating))
            .SingleOrDefaultAsync(ct);

    private async Task StoreAsync(EventFacts facts)
    {
        try
        {
            var db = redis.GetDatabase();
            await db.HashSetAsync(Key(facts.Id),
            [
                new("status", facts.Status.ToString()), new("starts", facts.StartsAt.Ticks),
                new("high", facts.HighDemand), new("seated", facts.HasSeating)
            ]);
            await db.KeyExpireAsync(Key(facts.Id), Lifetime);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Could not cache the facts of event {EventId}", facts.Id);
        }
    }
}
