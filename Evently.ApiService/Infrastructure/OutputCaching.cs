using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.OutputCaching.StackExchangeRedis;
using Evently.Domain.Events;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Evently.ApiService.Infrastructure;

public static class OutputCaching
{
    public const string EventsPolicy = "events";

    // Event lists and details are cached in Redis, shared by every API replica. Every cache key carries
    // the events' generation, a Redis counter that each change increments (see EventCache): eviction is
    // one INCR, and a copy read from the database before a change can only ever be stored under the old
    // generation, which no read asks for again.
    public static void AddEventlyOutputCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddStackExchangeRedisOutputCache(_ => { });
        // Reuse the Aspire-managed connection (telemetry, health check) rather than opening another.
        builder.Services.AddOptions<RedisOutputCacheOptions>().Configure<IConnectionMultiplexer>((options, redis) =>
            options.ConnectionMultiplexerFactory = () => Task.FromResult(redis));
        DecorateStoreToSurviveRedisOutages(builder.Services);

        builder.Services.AddOutputCache(options => options.AddPolicy(EventsPolicy, new PublicReadsPolicy()));
        builder.Services.AddSingleton<EventCache>();
        builder.Services.AddOptions<OutputCacheTestingOptions>().BindConfiguration(OutputCacheTestingOptions.Section);
    }

    private static void DecorateStoreToSurviveRedisOutages(IServiceCollection services)
    {
        var redisStore = services.Last(d => d.ServiceType == typeof(IOutputCacheStore));
        services.Remove(redisStore);
        services.AddSingleton<IOutputCacheStore>(sp => new ResilientOutputCacheStore(
            (IOutputCacheStore)ActivatorUtilities.CreateInstance(sp, redisStore.ImplementationType!),
            sp.GetRequiredService<ILogger<ResilientOutputCacheStore>>()));
    }
}

/// <summary>
/// Caches successful GETs for 30 s by path, query and the events' generation, for every caller: unlike
/// the default policy it also serves signed-in users, because event reads are the same for everyone.
/// </summary>
internal sealed class PublicReadsPolicy : IOutputCachePolicy
{
    public async ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellationToken)
    {
        var method = context.HttpContext.Request.Method;
        var cacheable = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        // Read before the endpoint reads the database, so the key is never newer than the data stored under it.
        var generation = cacheable
            ? await context.HttpContext.RequestServices.GetRequiredService<EventCache>().GenerationAsync()
            : null;
        context.EnableOutputCaching = true;
        context.AllowCacheLookup = generation is not null;
        context.AllowCacheStorage = generation is not null;
        context.AllowLocking = true;
        context.CacheVaryByRules.QueryKeys = "*";
        context.CacheVaryByRules.VaryByValues["generation"] = generation?.ToString() ?? "";
        context.ResponseExpirationTimeSpan = TimeSpan.FromSeconds(30);
    }

    public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellationToken) =>
        ValueTask.CompletedTask;

    public async ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellationToken)
    {
        if (context.HttpContext.Response.StatusCode != StatusCodes.Status200OK)
        {
            context.AllowCacheStorage = false;
        }

        // Tests widen the window between the database read and the cache write, where a change may commit.
        var testing = context.HttpContext.RequestServices.GetRequiredService<IOptions<OutputCacheTestingOptions>>().Value;
        if (testing.AllowDelayHeader
            && int.TryParse(context.HttpContext.Request.Headers[OutputCacheTestingOptions.DelayHeader], out var delayMs))
        {
            await Task.Delay(Math.Clamp(delayMs, 0, 10_000), cancellationToken);
        }
    }
}

/// <summary>Off unless a test host turns it on: honours a header that delays storing a read in the cache.</summary>
public sealed class OutputCacheTestingOptions
{
    public const string Section = "Evently:Testing";
    public const string DelayHeader = "X-Evently-Test-Cache-Delay-Ms";

    public bool AllowDelayHeader { get; set; }
}

/// <summary>The events' cache generation: read by every cached request, incremented by every change.</summary>
public sealed class EventCache(IConnectionMultiplexer redis, ILogger<EventCache> logger)
{
    private static readonly RedisKey GenerationKey = EventReadsGeneration.Key;

    /// <returns>The current generation, or null when Redis cannot say (the request then bypasses the cache).</returns>
    public async ValueTask<long?> GenerationAsync()
    {
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(GenerationKey);
            return value.IsNull ? 0 : (long)value;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Reading the event cache generation failed; answering from the database");
            return null;
        }
    }

    // Not cancellable: the write has committed, so the eviction must happen even if the client has gone.
    public async ValueTask InvalidateAsync()
    {
        if (!await EventReadsGeneration.TryIncrementAsync(redis))
        {
            // Entries expire on their own within the policy's 30 seconds.
            logger.LogWarning("Evicting the event cache failed");
        }
    }
}

/// <summary>
/// The cache is an optimisation: if Redis is down, a read is a miss and a write or eviction is
/// skipped, so requests are answered from the database instead of failing.
/// </summary>
internal sealed class ResilientOutputCacheStore(IOutputCacheStore inner, ILogger<ResilientOutputCacheStore> logger)
    : IOutputCacheStore
{
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.GetAsync(key, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Output cache read failed; answering from the database");
            return null;
        }
    }

    public async ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken)
    {
        try
        {
            await inner.SetAsync(key, value, tags, validFor, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Output cache write failed");
        }
    }

    public async ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken)
    {
        try
        {
            await inner.EvictByTagAsync(tag, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Entries expire on their own within the policy's 30 seconds.
            logger.LogWarning(ex, "Output cache eviction of {Tag} failed", tag);
        }
    }
}
