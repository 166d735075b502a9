using System.Text.Json;
using System.Text.Json.Serialization;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace Evently.ApiService.Events;

/// <summary>
/// Event reads (the list, an event, its seats) and the booking intake's event facts, from a two-level cache:
/// this replica's memory in front of Redis (FusionCache). A hit costs no round trip; one request rebuilds an
/// expired entry while the others wait for it. Bookings evict nothing: counts may lag them by up to a second
/// (API.md, "Freshness"), so entries that carry counts live 0.8 s and are refreshed in the background once half
/// that has passed. Admin changes evict at once through the key's generation (<see cref="EventChanges"/>).
/// Redis failing only costs the shared level (a circuit breaker skips it for a second at a time); the
/// database failing serves the last copy for up to five minutes (nothing can book meanwhile).
/// </summary>
public sealed class EventReads(
    IFusionCache cache, EventChanges changes, IServiceScopeFactory scopes, TimeProvider timeProvider,
    IOptions<JsonOptions> json, IOptions<EventReadsTestingOptions> testing, IHttpContextAccessor httpContext)
{
    private static readonly FusionCacheEntryOptions WithCounts = new()
    {
        Duration = TimeSpan.FromMilliseconds(800),
        EagerRefreshThreshold = 0.5f,
        IsFailSafeEnabled = true,
        FailSafeMaxDuration = TimeSpan.FromMinutes(5),
        FailSafeThrottleDuration = TimeSpan.FromSeconds(1),
        // A database that hangs: the last copy after a second, while the read finishes in the background.
        FactorySoftTimeout = TimeSpan.FromSeconds(1),
        DistributedCacheSoftTimeout = TimeSpan.FromMilliseconds(100),
        DistributedCacheHardTimeout = TimeSpan.FromMilliseconds(500),
        AllowBackgroundDistributedCacheOperations = true,
        // Each read sets its entry's own size in bytes; this is only for an entry that arrives without one.
        Size = 4096
    };

    // Facts change only by admin changes, which move the key: kept in Redis for minutes, in memory for a
    // second (what another replica's change may take to show here while Redis is down).
    private static readonly FusionCacheEntryOptions Facts = WithCounts.Duplicate().SetDuration(TimeSpan.FromMinutes(5))
        .SetMemoryCacheDuration(TimeSpan.FromSeconds(1)).SetEagerRefresh(null);

    // How the cache stores entries in Redis: the facts as JSON, the reads' JSON as base64.
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(Extensions.EnumNaming) }
    };

    // Reads are cached as the JSON they answer with: a hit serializes nothing.

    /// <returns>The page of <see cref="EventSummary"/>, as JSON.</returns>
    public ValueTask<byte[]?> ListAsync(PageRequest paging, EventListQuery query, CancellationToken cancellationToken) =>
        cache.GetOrSetAsync<byte[]?>(
            $"{changes.KeyPrefix}:list:{paging.PageNumber}:{paging.Size}:{query.From?.UtcTicks}:{query.To?.UtcTicks}:{query.Q?.Trim()}",
            (context, ct) => ReadAsync<byte[]?>(context, async db => Json(await ListFromDatabaseAsync(db, paging, query, ct))), WithCounts, cancellationToken);

    /// <returns>The <see cref="EventDetails"/> as JSON, or null for an unknown event.</returns>
    public ValueTask<byte[]?> GetAsync(long id, CancellationToken cancellationToken) =>
        cache.GetOrSetAsync<byte[]?>($"{changes.KeyPrefix}:event:{id}",
            (context, ct) => ReadAsync(context, async db => await db.Events.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, ct) is { } evt
                ? Json(EventDetails.From(evt)) : null),
            WithCounts, cancellationToken);

    /// <returns>The event's seats in seat order (empty without seating) as JSON, or null for an unknown event.</returns>
    public ValueTask<byte[]?> SeatsAsync(long id, CancellationToken cancellationToken) =>
        cache.GetOrSetAsync<byte[]?>($"{changes.KeyPrefix}:seats:{id}",
            (context, ct) => ReadAsync(context, async db => await db.Events.AnyAsync(e => e.Id == id, ct)
                ? Json(await db.Seats.AsNoTracking().Where(s => s.EventId == id).InSeatOrder()
                    .Select(s => new SeatResponse(s.Id, s.Section, s.Row, s.Number, s.Status)).ToListAsync(ct))
                : null),
            WithCounts, cancellationToken);

    // Exactly what TypedResults.Ok would write.
    private byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, json.Value.SerializerOptions);

    /// <returns>The event's facts, or null for an unknown event.</returns>
    public ValueTask<EventFacts?> FactsAsync(long id, CancellationToken cancellationToken) =>
        cache.GetOrSetAsync<EventFacts?>($"{changes.KeyPrefix}:facts:{id}",
            (context, ct) => ReadAsync(context, db => EventFacts.LoadAsync(db, id, ct)),
            Facts, cancellationToken);

    private async Task<PageResult<EventSummary>> ListFromDatabaseAsync(
        EventlyDbContext db, PageRequest paging, EventListQuery query, CancellationToken cancellationToken)
    {
        var now = timeProvider.UtcNow();
        var events = db.Events.AsNoTracking().Where(e => e.Status == EventStatus.Scheduled && e.StartsAt >= now);
        if (!string.IsNullOrWhiteSpace(query.Q))
        {
            var text = query.Q.Trim();
            events = events.Where(e => e.Name.Contains(text) || e.Venue.Contains(text));
        }
        if (query.From is { } from)
        {
            events = events.Where(e => e.StartsAt >= from.UtcDateTime);
        }
        if (query.To is { } to)
        {
            events = events.Where(e => e.StartsAt <= to.UtcDateTime);
        }

        var total = await events.CountAsync(cancellationToken);
        var items = await events.OrderBy(e => e.StartsAt).ThenBy(e => e.Id)
            .Skip(paging.Skip).Take(paging.Size)
            .ToListAsync(cancellationToken);
        return new PageResult<EventSummary>(items.Select(EventSummary.From).ToList(), paging.PageNumber, paging.Size, total);
    }

    // Its own scope: a background refresh outlives the request that started it, and with it the request's DbContext.
    // The entry is sized in bytes, which is what bounds the memory cache (Caching.BoundedMemory).
    private async Task<T> ReadAsync<T>(FusionCacheFactoryExecutionContext<T> context, Func<EventlyDbContext, Task<T>> read)
    {
        await using var scope = scopes.CreateAsyncScope();
        var value = await read(scope.ServiceProvider.GetRequiredService<EventlyDbContext>());
        context.Options.Size = Caching.EntrySize(context.Key, value is byte[] json ? json.Length : FactsBytes);
        await DelayForTestsAsync();
        return value;
    }

    // An EventFacts object (or a null answer) in memory, roughly.
    private const int FactsBytes = 64;

    // Tests widen the window between the database read and the cache write, where a change may commit.
    private Task DelayForTestsAsync() =>
        testing.Value.AllowDelayHeader
        && int.TryParse(httpContext.HttpContext?.Request.Headers[EventReadsTestingOptions.DelayHeader], out var delayMs)
            ? Task.Delay(Math.Clamp(delayMs, 0, 10_000))
            : Task.CompletedTask;
}

/// <summary>Off unless a test host turns it on: honours a header that delays storing a read in the cache.</summary>
public sealed class EventReadsTestingOptions
{
    public const string Section = "Evently:Testing";
    public const string DelayHeader = "X-Evently-Test-Cache-Delay-Ms";

    public bool AllowDelayHeader { get; set; }
}
