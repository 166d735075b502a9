using Evently.ApiService.Infrastructure;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Evently.Tests.Unit;

public sealed class ResilientOutputCacheStoreTests
{
    private sealed class RedisDown : IOutputCacheStore
    {
        private static RedisConnectionException Down() => new(ConnectionFailureType.UnableToConnect, "Redis is down");
        public ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken) => throw Down();
        public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => throw Down();
        public ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken) => throw Down();
    }

    private sealed class Broken : IOutputCacheStore
    {
        public ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken) => throw new InvalidOperationException("bug");
        public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => throw new InvalidOperationException("bug");
        public ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken) => throw new InvalidOperationException("bug");
    }

    [Fact]
    public async Task With_redis_down_reads_miss_and_writes_and_evictions_are_skipped()
    {
        var store = new ResilientOutputCacheStore(new RedisDown(), NullLogger<ResilientOutputCacheStore>.Instance);

        Assert.Null(await store.GetAsync("key", default));
        await store.SetAsync("key", [1, 2, 3], ["events"], TimeSpan.FromSeconds(30), default);
        await store.EvictByTagAsync("events", default);
    }

    [Fact]
    public async Task Other_failures_are_not_hidden()
    {
        var store = new ResilientOutputCacheStore(new Broken(), NullLogger<ResilientOutputCacheStore>.Instance);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.GetAsync("key", default));
    }
}
