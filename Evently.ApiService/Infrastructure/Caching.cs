using System.Text.Json;
using Evently.ApiService.Events;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace Evently.ApiService.Infrastructure;

public static class Caching
{
    // FusionCache rather than HybridCache: both keep memory in front of Redis and rebuild an entry once under
    // load, but FusionCache also serves the last copy when the database fails (fail-safe), refreshes hot
    // entries before they expire (eager refresh), and stops asking a failing Redis (a circuit breaker, with
    // timeouts on every call): one mechanism for speed and for Redis outages.
    public static void AddEventlyCaching(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<EventChanges>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EventChanges>());
        builder.Services.AddSingleton<EventReads>();
        builder.Services.AddOptions<EventReadsTestingOptions>().BindConfiguration(EventReadsTestingOptions.Section);

        // FusionCache's own entry metadata holds value tuples, which System.Text.Json writes only with fields on.
        var serializer = new FusionCacheSystemTextJsonSerializer(new JsonSerializerOptions(EventReads.JsonOptions) { IncludeFields = true });
        builder.Services.AddFusionCache()
            .WithOptions(options =>
            {
                options.CacheKeyPrefix = "evently:reads:";
                options.DistributedCacheCircuitBreakerDuration = TimeSpan.FromSeconds(1);
                options.DisableTagging = true;
            })
            // Bounded: a flood of distinct queries cannot grow the cache without limit.
            .WithMemoryCache(new MemoryCache(new MemoryCacheOptions { SizeLimit = 50_000 }))
            .WithDefaultEntryOptions(new FusionCacheEntryOptions { Size = 1 })
            .WithSerializer(serializer)
            // The Aspire-managed connection (its telemetry, its health check, its fail-fast settings).
            .WithDistributedCache(sp => new RedisCache(Options.Create(new RedisCacheOptions
            {
                ConnectionMultiplexerFactory = () => Task.FromResult(sp.GetRequiredService<IConnectionMultiplexer>())
            })), serializer);
    }
}
