using Evently.Domain.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;

namespace Evently.ApiService.Infrastructure;

/// <summary>
/// The cache's Redis level, behind the one rule of when Redis cannot serve (<see cref="RedisConnection"/>): while
/// it cannot, reads miss and writes are dropped without a round trip, so the cache goes on with memory and the
/// database; an outage met here makes every other caller skip Redis too, as theirs make this level skip it.
/// </summary>
internal sealed class RedisCacheLevel(IDistributedCache redisCache, IConnectionMultiplexer redis) : IDistributedCache
{
    public byte[]? Get(string key) => Try(() => redisCache.Get(key));

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => TryAsync(() => redisCache.GetAsync(key, token));

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) =>
        Try(() => { redisCache.Set(key, value, options); return (byte[]?)null; });

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        TryAsync(async () => { await redisCache.SetAsync(key, value, options, token); return null; });

    public void Refresh(string key) => Try(() => { redisCache.Refresh(key); return (byte[]?)null; });

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        TryAsync(async () => { await redisCache.RefreshAsync(key, token); return null; });

    public void Remove(string key) => Try(() => { redisCache.Remove(key); return (byte[]?)null; });

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        TryAsync(async () => { await redisCache.RemoveAsync(key, token); return null; });

    private byte[]? Try(Func<byte[]?> call)
    {
        if (!redis.IsUsable())
        {
            return null;
        }
        try
        {
            return call();
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            return null;
        }
    }

    private async Task<byte[]?> TryAsync(Func<Task<byte[]?>> call)
    {
        if (!redis.IsUsable())
        {
            return null;
        }
        try
        {
            return await call();
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            return null;
        }
    }
}
