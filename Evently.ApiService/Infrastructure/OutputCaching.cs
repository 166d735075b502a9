using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.OutputCaching.StackExchangeRedis;
using StackExchange.Redis;

namespace Evently.ApiService.Infrastructure;

public static class OutputCaching
{
    public const string EventsPolicy = "events";
    public const string EventsTag = "events";

    // Event lists and details are cached in Redis, shared by every API replica, and evicted by tag
    // whenever an event or its availability changes (see EventCache).
    public static void AddEventlyOutputCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddStackExchangeRedisOutputCache(_ => { });
        // Reuse the Aspire-managed connection (telemetry, health check) rather than opening another.
        builder.Services.AddOptions<RedisOutputCacheOptions>().Configure<IConnectionMultiplexer>((options, redis) =>
            options.ConnectionMultiplexerFactory = () => Task.FromResult(redis));
        DecorateStoreToSurviveRedisOutages(builder.Services);

        builder.Services.AddOutputCache(options => options.AddPolicy(EventsPolicy, new PublicReadsPolicy(EventsTag)));
        builder.Services.AddSingleton<EventCache>();
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
/// Caches successful GETs for 30 s by path and query, for every caller: unlike the default policy it
/// also serves signed-in users, because event reads are the same for everyone.
/// </summary>
internal sealed class PublicReadsPolicy(string tag) : IOutputCachePolicy
{
    public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellationToken)
    {
        var method = context.HttpContext.Request.Method;
        var cacheable = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        context.EnableOutputCaching = true;
        context.AllowCacheLookup = cacheable;
        context.AllowCacheStorage = cacheable;
        context.AllowLocking = true;
        context.CacheVaryByRules.QueryKeys = "*";
        context.ResponseExpirationTimeSpan = TimeSpan.FromSeconds(30);
        context.Tags.Add(tag);
        return ValueTask.CompletedTask;
    }

    public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellationToken) =>
        ValueTask.CompletedTask;

    public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellationToken)
    {
        if (context.HttpContext.Response.StatusCode != StatusCodes.Status200OK)
        {
            context.AllowCacheStorage = false;
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>Evicts cached event reads after a write.</summary>
public sealed class EventCache(IOutputCacheStore store)
{
    // Not cancellable: the write has committed, so the eviction must happen even if the client has gone.
    public ValueTask InvalidateAsync() => store.EvictByTagAsync(OutputCaching.EventsTag, CancellationToken.None);
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
