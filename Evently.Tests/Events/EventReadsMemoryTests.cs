using Evently.ApiService.Events;
using Evently.ApiService.Infrastructure;
using Evently.AppHost.Infrastructure;
using Evently.Domain.Infrastructure;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Evently.Tests.Events;

/// <summary>
/// Anonymous callers choose the cache's keys (every distinct q, from, to, page and unknown id is an entry): what the
/// event reads keep in a replica's memory is bounded in bytes, and a flood of distinct reads does not push out a
/// popular one. The API's own caching, in this process, on the app's database; its Redis is a closed port.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class EventReadsMemoryTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task A_flood_of_distinct_reads_keeps_memory_within_its_limit_in_bytes_and_the_popular_read_stays()
    {
        using var admin = await fixture.AdminAsync();
        var events = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => admin.CreateEventAsync()));
        var popular = events[0].Id;
        using var host = await ApiCachingAsync(memoryLimitMegabytes: 1);
        var reads = host.Services.GetRequiredService<EventReads>();
        var memory = (MemoryCache)host.Services.GetRequiredKeyedService<IMemoryCache>(Caching.MemoryKey);

        // Lists from ever earlier times: the same events, a new key each time. Three times the limit in all.
        long asked = 0;
        var length = 0;
        for (var i = 0; asked < 3 * 1024 * 1024; i++)
        {
            var page = await reads.ListAsync(new PageRequest(1, 100), new EventListQuery(null, DateTimeOffset.UtcNow.AddYears(-1).AddTicks(-i), null), default);
            length = page!.Length;
            asked += length;
            if (i % 10 == 0)
            {
                Assert.NotNull(await reads.GetAsync(popular, default));
            }
        }
        // The memory level compacts in the background once past its limit.
        await Task.Delay(500);

        var keys = memory.Keys.Select(k => k.ToString()!).ToList();
        var listsHeld = keys.Count(k => k.Contains(":list:"));
        Assert.True(listsHeld * (long)length <= 1024 * 1024,
            $"{listsHeld} lists of {length} bytes held, {listsHeld * (long)length / 1024} KiB, for a limit of 1,024 KiB (asked {asked / 1024} KiB)");
        Assert.True(listsHeld > 0, "nothing was kept at all");
        Assert.Contains(keys, k => k.EndsWith($":event:{popular}"));
    }

    // What the API registers for its event reads (Caching, EventReads), with a Redis that cannot serve.
    private async Task<IHost> ApiCachingAsync(int memoryLimitMegabytes)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:evently"] = fixture.DatabaseConnectionString,
            ["Evently:Database:ServerVersion"] = "10.11.0-mariadb",
            ["Evently:Cache:MemoryLimitMegabytes"] = memoryLimitMegabytes.ToString(),
            ["Logging:LogLevel:Default"] = "Warning"
        });
        builder.AddEventlyDbContext();
        builder.Services.AddSingleton<IConnectionMultiplexer>(
            await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{LocalProcesses.FreePort()},abortConnect=false,connectTimeout=200"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddEventlyCaching();
        return builder.Build();
    }
}
