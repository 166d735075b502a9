using Aspire.Hosting.Testing;
using Evently.Tests.Bookings;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Evently.Tests.Foundation;

/// <summary>
/// Redis has a memory limit, and what it evicts at the limit is only what has a time to live (the cache, rate limit
/// buckets): never the booking queue's state.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class RedisMemoryTests(EventlyAppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task The_apps_Redis_has_a_memory_limit_and_evicts_only_keys_with_a_time_to_live()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))! + ",allowAdmin=true");
        var config = (await redis.GetServers()[0].ConfigGetAsync("maxmemory*")).ToDictionary(c => c.Key, c => c.Value);

        Assert.Equal((256L * 1024 * 1024).ToString(), config["maxmemory"]);
        Assert.Equal("volatile-lru", config["maxmemory-policy"]);
    }

    [Fact]
    public async Task Cache_entries_and_rate_limit_buckets_have_a_time_to_live()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync();
        Assert.Equal(HttpStatusCode.OK, (await fixture.Api.GetAsync($"/api/events/{evt.Id}")).StatusCode);
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))!);
        var db = redis.GetDatabase();

        // Written in the background after the answer.
        RedisKey[] cached = [];
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            cached = redis.GetServers()[0].Keys(pattern: $"*evently:reads:*:event:{evt.Id}").ToArray();
            return cached.Length > 0;
        }, TimeSpan.FromSeconds(5), "the event's read in Redis");
        var buckets = redis.GetServers()[0].Keys(pattern: "evently:ratelimit:*").Take(20).ToArray();

        Assert.NotEmpty(buckets);
        foreach (var key in cached.Concat(buckets))
        {
            Assert.True(await db.KeyTimeToLiveAsync(key) is { } ttl && ttl > TimeSpan.Zero, $"{key} has no time to live");
        }
    }

    [Fact]
    public async Task A_Redis_full_of_cached_reads_evicts_them_and_keeps_every_queued_request()
    {
        // A Redis of this test's own with the app's eviction policy and a limit a few megabytes above what it holds empty.
        await using var appRedis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))! + ",allowAdmin=true");
        var policy = (await appRedis.GetServers()[0].ConfigGetAsync("maxmemory-policy")).Single().Value;
        await using var redis = await RedisServerProcess.StartAsync("yes", "everysec", "--maxmemory-policy", policy);
        var empty = UsedMemory(await redis.CommandAsync("INFO", "memory"));
        await redis.CommandAsync("CONFIG", "SET", "maxmemory", (empty + 3 * 1024 * 1024).ToString());
        await using var api = await ServiceProcess.StartApiAsync(fixture, redis: redis.ConnectionString + ",abortConnect=false");
        using var admin = await fixture.AdminAsync();
        using var member = await fixture.NewUserAsync();
        using var user = api.As(member);
        using var http = api.CreateClient();
        await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => admin.CreateEventAsync()));
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 100, highDemand: true));
        var requests = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var queued = await user.BookAsync(evt.Id, 1);
            Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
            requests.Add((await queued.Content.ReadFromJsonAsync<BookingRequestDto>())!.RequestId);
        }

        // Lists from ever earlier times: a new cache entry each, until Redis has evicted many.
        long evicted = 0;
        for (var i = 0; evicted < 50 && i < 2000; i++)
        {
            var from = DateTimeOffset.UtcNow.AddYears(-1).AddSeconds(-i).ToString("O");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/events?pageSize=100&from={Uri.EscapeDataString(from)}")).StatusCode);
            if (i % 20 == 19)
            {
                evicted = Stat(await redis.CommandAsync("INFO", "stats"), "evicted_keys");
            }
        }
        output.WriteLine($"Redis evicted {evicted} keys at a limit of {empty / 1024 + 3072} KiB");
        Assert.True(evicted >= 50, $"only {evicted} keys evicted");

        // Every request is still queued, with its place: its state is in Redis alone until the worker answers it.
        foreach (var id in requests)
        {
            var state = (await user.Http.GetFromJsonAsync<BookingRequestDto>($"/api/bookings/requests/{id}"))!;
            Assert.Equal("queued", state.Status);
        }
    }

    private static long UsedMemory(RedisResult info) => Stat(info, "used_memory");

    private static long Stat(RedisResult info, string name) =>
        long.Parse(((string)info!).Split("\r\n").Single(line => line.StartsWith(name + ":"))[(name.Length + 1)..]);
}
