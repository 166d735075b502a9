using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.Testing;
using Evently.AppHost.Infrastructure;
using Evently.Tests.Infrastructure;
using MySqlConnector;
using StackExchange.Redis;

namespace Evently.LoadTest;

/// <summary>
/// <c>--hot-events</c>: three high-demand events on sale at once, on one Redis and then on a three-node Redis Cluster
/// (<c>Evently:Redis:Cluster</c>), each run on a fresh app. The drain is held until the intake is done, so that the two
/// are measured one at a time: intake and drain per event and in all, and each redis-server's CPU.
/// </summary>
internal static class HotEventsScenario
{
    private const int Events = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = LoadSettings.Parse(args);
        var holds = true;
        foreach (var cluster in new[] { false, true })
        {
            holds &= await RunOnceAsync(cluster, settings.Clients, settings.QueueRequests, settings.QueueTickets);
        }
        return holds ? 0 : 1;
    }

    private static async Task<bool> RunOnceAsync(bool cluster, int clients, int requests, int capacity)
    {
        var shape = cluster ? "a 3-node Redis Cluster" : "one Redis";
        Console.WriteLine($"Starting the app on {shape}...");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var local = await LocalApp.StartAsync(
        [
            "Evently:Api:RateLimiting:UserTokenLimit=100000000",
            "Evently:Api:RateLimiting:AnonymousTokenLimit=100000000",
            "Evently:Api:Telemetry:TraceSampleRatio=0.1",
            "Evently:Worker:Telemetry:TraceSampleRatio=0.1",
            $"Parameters:jwt-signing-key={HighDemandScenario.SigningKey}",
            $"{RedisCluster.ConfigurationKey}={cluster}"
        ], cancellation.Token);
        var database = (await local.App.GetConnectionStringAsync("evently"))!;
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await local.App.GetConnectionStringAsync("redis"))! + ",allowAdmin=true");
        var nodes = await RedisNodesAsync(redis);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(1_000, clients) })
        {
            BaseAddress = local.App.GetEndpoint("api", "http"), Timeout = TimeSpan.FromSeconds(30)
        };
        var api = new EventlyApi(http);
        var admin = await api.LoginAsync("admin@evently.local", "evently-admin-dev");
        var startsAt = DateTimeOffset.UtcNow.AddDays(30);
        var events = new List<long>();
        for (var i = 0; i < Events; i++)
        {
            events.Add((await api.CreateEventAsync(admin, new CreateEventRequest($"Load test: hot event {i + 1}", "Three on-sales at once.",
                "Benchmark Arena", startsAt, startsAt.AddHours(3), capacity, HighDemand: true))).Id);
        }
        var tokens = await HighDemandScenario.SeedUsersAsync(database, HighDemandScenario.Users);
        var queue = new Evently.Domain.Bookings.BookingQueue(redis, TimeProvider.System);

        Console.WriteLine($"On-sale of {Events} events at once on {shape}: {requests:N0} requests each from {clients} clients, {capacity:N0} tickets each");
        await queue.PauseAsync();
        var accepted = new ConcurrentDictionary<long, int>();
        var next = -1;
        var cpu = RedisCpu.Start(nodes);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < requests * Events)
            {
                var eventId = events[n % Events];
                if (await api.QueueBookingAsync(tokens[n / Events % tokens.Length], eventId) == 202)
                {
                    accepted.AddOrUpdate(eventId, 1, (_, count) => count + 1);
                }
            }
        })));
        var intake = clock.Elapsed.TotalSeconds;
        var intakeCpu = cpu.Report();

        cpu = RedisCpu.Start(nodes);
        clock.Restart();
        await queue.ResumeAsync();
        var drained = await WatchDrainAsync(database, events, accepted, clock);
        var drainCpu = cpu.Report();

        var total = accepted.Values.Sum();
        Console.WriteLine($"  Intake: {total:N0} of {requests * Events:N0} accepted in {intake:0.0} s = {total / intake:N0}/s in all; per event "
            + string.Join(", ", events.Select(e => $"{accepted.GetValueOrDefault(e) / intake:N0}/s")));
        Console.WriteLine($"  Drain: the last answer after {drained.Values.Max():0.0} s = {total / drained.Values.Max():N0}/s in all; per event "
            + string.Join(", ", events.Select(e => $"{accepted.GetValueOrDefault(e) / drained[e]:N0}/s ({drained[e]:0.0} s)")));
        Console.WriteLine($"  Redis CPU, % of one core, intake: {intakeCpu}; drain: {drainCpu}");
        Console.WriteLine($"  Queues by node: {string.Join(", ", events.Select(e => $"event {e} on {redis.GetServer(Evently.Domain.Bookings.QueueKeys.Stream(e)).EndPoint}"))}");
        var holds = total == requests * Events && await AllAnsweredAsync(database, events, accepted, capacity);
        Console.WriteLine($"  Every request accepted and answered once, {capacity:N0} confirmed per event: {(holds ? "holds" : "VIOLATED")}");
        return holds;
    }

    // Each event's time to its last answer (every booking_requests row is an answer), polled every 50 ms.
    private static async Task<Dictionary<long, double>> WatchDrainAsync(string database, List<long> events, IReadOnlyDictionary<long, int> accepted, Stopwatch clock)
    {
        await using var db = new MySqlConnection(database);
        await db.OpenAsync();
        var done = new Dictionary<long, double>();
        while (done.Count < events.Count && clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            foreach (var eventId in events.Where(e => !done.ContainsKey(e)))
            {
                var answered = Convert.ToInt64(await new MySqlCommand($"SELECT COUNT(*) FROM booking_requests WHERE EventId = {eventId}", db).ExecuteScalarAsync());
                if (answered >= accepted.GetValueOrDefault(eventId))
                {
                    done[eventId] = clock.Elapsed.TotalSeconds;
                }
            }
            await Task.Delay(50);
        }
        return done;
    }

    private static async Task<bool> AllAnsweredAsync(string database, List<long> events, IReadOnlyDictionary<long, int> accepted, int capacity)
    {
        await using var db = new MySqlConnection(database);
        await db.OpenAsync();
        foreach (var eventId in events)
        {
            await using var command = new MySqlCommand($"""
                SELECT COUNT(*), COALESCE(SUM(Status = 'Confirmed'), 0), (SELECT Booked FROM events WHERE Id = {eventId})
                FROM booking_requests WHERE EventId = {eventId}
                """, db);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetInt64(0) != accepted.GetValueOrDefault(eventId) || Convert.ToInt64(reader.GetValue(1)) != capacity || reader.GetInt32(2) != capacity)
            {
                return false;
            }
        }
        return true;
    }

    // Every master's redis-server: its address and its pid (INFO server).
    private static async Task<List<(string Node, int Pid)>> RedisNodesAsync(ConnectionMultiplexer redis)
    {
        var nodes = new List<(string, int)>();
        foreach (var server in redis.GetServers().Where(s => !s.IsReplica))
        {
            var info = (await server.InfoAsync("server")).SelectMany(g => g).Single(kv => kv.Key == "process_id").Value;
            nodes.Add((server.EndPoint.ToString()!, int.Parse(info, CultureInfo.InvariantCulture)));
        }
        return nodes;
    }

    /// <summary>Each redis-server's CPU over a window, in % of one core, from /proc/{pid}/stat.</summary>
    private sealed class RedisCpu(List<(string Node, int Pid)> nodes, Dictionary<int, long> start)
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        public static RedisCpu Start(List<(string Node, int Pid)> nodes) => new(nodes, CpuUse.Snapshot());

        public string Report()
        {
            var end = CpuUse.Snapshot();
            var seconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
            return string.Join(", ", nodes.Select(n =>
                $"{n.Node} {(end.GetValueOrDefault(n.Pid) - start.GetValueOrDefault(n.Pid)) / 100.0 / seconds * 100:0}%"));
        }
    }
}
