using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Evently.ApiService.Events;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace Evently.ApiService.Infrastructure;

public sealed class CachingOptions
{
    public const string Section = "Evently:Cache";

    /// <summary>What the event reads may hold in each replica's memory, in MiB (entries are sized in bytes).</summary>
    [Range(1, 4096)]
    public int MemoryLimitMegabytes { get; set; } = 32;
}

public static class Caching
{
    /// <summary>The event reads' memory level, as a keyed service (disposed with the host).</summary>
    public const string MemoryKey = "event-reads";

    // FusionCache rather than HybridCache: both keep memory in front of Redis and rebuild an entry once under
    // load, but FusionCache also serves the last copy when the database fails (fail-safe), refreshes hot
    // entries before they expire (eager refresh), and puts timeouts on every Redis call: one mechanism for speed
    // and for Redis outages. When Redis cannot serve is decided where it is for every other caller (RedisCacheLevel).
    public static void AddEventlyCaching(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CachingOptions>().BindConfiguration(CachingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddKeyedSingleton<IMemoryCache>(MemoryKey, (sp, _) => BoundedMemory(sp.GetRequiredService<IOptions<CachingOptions>>().Value));
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
                options.DisableTagging = true;
            })
            .WithMemoryCache(sp => sp.GetRequiredKeyedService<IMemoryCache>(MemoryKey))
            .WithSerializer(serializer)
            // The Aspire-managed connection (its telemetry, its health check, its fail-fast settings). Every entry
            // gets a time to live in Redis too (the fail-safe copy's five minutes), which lets Redis evict them.
            .WithDistributedCache(sp =>
            {
                var redis = sp.GetRequiredService<IConnectionMultiplexer>();
                return new RedisCacheLevel(new RedisCache(Options.Create(new RedisCacheOptions
                {
                    ConnectionMultiplexerFactory = () => Task.FromResult(redis)
                })), redis);
            }, serializer);
    }

    /// <summary>
    /// Bounded in bytes (each entry's size is set by <see cref="EntrySize"/> when it is made): a flood of distinct
    /// queries or unknown ids cannot grow it past the limit. Past it, the entries read least recently go first, so the
    /// popular ones stay.
    /// </summary>
    internal static MemoryCache BoundedMemory(CachingOptions options) => new(new MemoryCacheOptions
    {
        SizeLimit = options.MemoryLimitMegabytes * 1024L * 1024L,
        TrackStatistics = true
    });

    /// <summary>What an entry holds in memory: its value, its key and the cache's bookkeeping around them.</summary>
    internal static long EntrySize(string key, long valueBytes) => 256 + 2L * key.Length + valueBytes;
}
