using System.Diagnostics;
using System.Globalization;
using MySqlConnector;
using StackExchange.Redis;

namespace Evently.LoadTest;

internal sealed record StreamReplicaFigures(int Streams, double RssMiB, double CpuPercent);

internal sealed record WaitingRoomResult(
    int Buyers, int Tickets, double PreQueueSeconds, int Accepted, int StreamsOpened, int Reconnects, IReadOnlyList<(int Streams, double CallsPerSecond)> RedisCost,
    IReadOnlyList<StreamReplicaFigures> IdleReplicas, IReadOnlyList<StreamReplicaFigures> DrainReplicas, double SecondsToLastAnswer,
    double P50Seconds, double P99Seconds, long Confirmed, long Rejected, long Booked, int StreamAnswers, int StreamAnswersWrong,
    IReadOnlyList<string> StreamErrors)
{
    public bool Holds => Accepted == Buyers + 1 && Confirmed == Tickets && Booked == Tickets && Confirmed + Rejected == Accepted
        && StreamAnswers == Buyers && StreamAnswersWrong == 0;
}

/// <summary>
/// The waiting room's on-sale (issue 22): buyers pre-queue before the opening, each then holds a stream of their request
/// open until its answer, half on each of two API replicas of their own (started here on the app's database and Redis,
/// so that their streams do not pass through Aspire's proxy, which would need two files per stream over its limit).
/// Measures the Redis calls per second the streams cost with none, a tenth and all of them open and nothing else
/// happening; each replica's memory and CPU with its streams open; then the admin opens the sale: the time from the
/// opening to the last answer a buyer's stream received, and its p50/p99. A tenth of the same on-sale runs first, unmeasured,
/// unless --cold.
/// </summary>
internal static class WaitingRoomScenario
{
    private static readonly TimeSpan RedisWindow = TimeSpan.FromSeconds(10);

    public static async Task<WaitingRoomResult> RunAsync(EventlyApi api, EventlyApp app, int buyers, int tickets, bool warmUp)
    {
        var connectionString = (await app.DatabaseConnectionStringAsync())!;
        var redisConnectionString = (await app.RedisConnectionStringAsync())!;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(redisConnectionString);
        var tokens = await HighDemandScenario.SeedUsersAsync(connectionString, buyers + 1);
        await HighDemandScenario.WaitForMailBacklogAsync(connectionString);
        var adminToken = await api.LoginAsync("admin@evently.local", "evently-admin-dev");

        await using var first = await ApiReplica.StartAsync(connectionString, redisConnectionString);
        await using var second = await ApiReplica.StartAsync(connectionString, redisConnectionString);
        ApiReplica[] replicas = [first, second];
        if (warmUp)
        {
            await WarmUpAsync(api, adminToken, replicas, tokens[..(buyers / 10)], tickets / 10);
        }

        var (body, evt) = await CreateOnSaleAsync(api, adminToken, "Load test: the waiting room", tickets);
        Console.WriteLine($"Waiting room: {buyers:N0} buyers pre-queue for {tickets:N0} tickets...");
        var clock = Stopwatch.StartNew();
        var requestIds = await PreQueueAsync(api, tokens[..buyers], evt.Id);
        var preQueueSeconds = clock.Elapsed.TotalSeconds;
        var accepted = requestIds.Count(id => id != 0);
        Console.WriteLine($"  pre-queued {accepted:N0} in {preQueueSeconds:F1} s");

        var holders = replicas.Select(r => StreamHolder.Start(r.Address)).ToArray();
        try
        {
            var redisCost = new List<(int, double)> { (0, await RedisCallsPerSecondAsync(redis)) };
            var streams = Enumerable.Range(0, buyers).Where(i => requestIds[i] != 0).Select(i => (requestIds[i], tokens[i])).ToList();
            var opened = 0;
            foreach (var count in new[] { streams.Count / 10, streams.Count })
            {
                await Task.WhenAll(holders.Select((holder, h) => holder.OpenAsync(streams.Skip(opened).Take(count - opened).Where((_, i) => i % holders.Length == h))));
                opened = count;
                await WaitAsync(() => holders.Sum(h => h.Opened) + holders.Sum(h => h.Errors.Count) >= count, TimeSpan.FromMinutes(3));
                Console.WriteLine($"  {holders.Sum(h => h.Opened):N0} streams open ({holders.Sum(h => h.Errors.Count)} failed)");
                redisCost.Add((holders.Sum(h => h.Opened), await RedisCallsPerSecondAsync(redis)));
            }
            var idle = await MeasureReplicasAsync(replicas, holders, TimeSpan.FromSeconds(5));

            // The opening: the admin moves it to now (the update carries it to the queue and wakes the workers), and a late
            // request follows, behind the pre-queue.
            await redis.GetDatabase().ExecuteAsync("SLOWLOG", "RESET");
            var cpu = replicas.Select(r => r.CpuSeconds()).ToArray();
            var everyone = CpuUse.Start();
            var drainClock = Stopwatch.StartNew();
            var opensAt = DateTimeOffset.UtcNow;
            await api.UpdateEventAsync(adminToken, evt.Id, body with { SalesStartAt = opensAt });
            var moved = drainClock.Elapsed;
            var (lateStatus, _) = await api.QueueForIdAsync(tokens[buyers], evt.Id);
            var late = drainClock.Elapsed;
            accepted += lateStatus == 202 ? 1 : 0;
            // Where the time goes: when the pre-queue was placed, then what the worker has answered (the event's answered
            // mark) beside what the streams received, each second.
            var timeline = new List<string>();
            var nextSample = TimeSpan.FromSeconds(1);
            TimeSpan? placedAt = null, firstAnswerAt = null;
            var thisSecond = CpuUse.Start();
            var cpuBySecond = new List<string>();
            await WaitAsync(() =>
            {
                var now = drainClock.Elapsed;
                var drained = (long?)redis.GetDatabase().StringGet(Evently.Domain.Bookings.QueueKeys.Answered(evt.Id)) ?? 0;
                placedAt ??= redis.GetDatabase().KeyExists(Evently.Domain.Bookings.QueueKeys.Opened(evt.Id)) ? now : null;
                firstAnswerAt ??= drained > 0 ? now : null;
                if (now >= nextSample)
                {
                    timeline.Add($"{nextSample.TotalSeconds:0}s {drained:N0}/{holders.Sum(h => h.Answers.Count):N0}");
                    cpuBySecond.Add($"{nextSample.TotalSeconds:0}s: {thisSecond.Report()}");
                    thisSecond = CpuUse.Start();
                    nextSample += TimeSpan.FromSeconds(1);
                }
                return holders.Sum(h => h.Answers.Count + h.Errors.Count) >= opened;
            }, TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(20));
            Console.WriteLine($"  after the opening: the admin's change answered at {moved.TotalSeconds:F2} s, a late request at {late.TotalSeconds:F2} s, " +
                $"the pre-queue placed by {placedAt?.TotalSeconds:F2} s, the first answer by {firstAnswerAt?.TotalSeconds:F2} s");
            Console.WriteLine($"  answered by the worker / received by the streams, each second after the opening: {string.Join(", ", timeline)}");
            Console.WriteLine($"  CPU each second, % of one core:{string.Concat(cpuBySecond.Select(c => "\n    " + c))}");
            Console.WriteLine($"  Redis's slowest commands meanwhile: {await SlowestCommandsAsync(redis)}");
            Console.WriteLine($"  CPU from the opening to the last answer, % of one core: {everyone.Report()}");
            var drain = replicas.Select((r, i) => new StreamReplicaFigures(opened / replicas.Length, r.RssMiB(),
                (r.CpuSeconds() - cpu[i]) / drainClock.Elapsed.TotalSeconds * 100)).ToList();

            var answers = holders.SelectMany(h => h.Answers).ToDictionary(a => a.Key, a => a.Value);
            var delays = answers.Values.Select(a => (a.AtUnixMs - opensAt.ToUnixTimeMilliseconds()) / 1000.0).Order().ToArray();
            var (confirmed, rejected, booked, statuses) = await ReadAnswersAsync(connectionString, evt.Id);
            return new WaitingRoomResult(buyers, tickets, preQueueSeconds, accepted, opened, holders.Sum(h => h.Reconnects), redisCost, idle, drain,
                delays.LastOrDefault(), HighDemandScenario.Percentile(delays, 0.50), HighDemandScenario.Percentile(delays, 0.99),
                confirmed, rejected, booked, answers.Count,
                answers.Count(a => !string.Equals(statuses.GetValueOrDefault(a.Key), a.Value.Status, StringComparison.OrdinalIgnoreCase)),
                holders.SelectMany(h => h.Errors).Take(5).ToList());
        }
        finally
        {
            foreach (var holder in holders)
            {
                await holder.DisposeAsync();
            }
        }
    }

    // A tenth of the on-sale first, through the same replicas and worker, so that the measured opening runs on code an
    // earlier on-sale has compiled and optimised, as on any worker that has run one since it started (--cold skips it).
    private static async Task WarmUpAsync(EventlyApi api, string adminToken, ApiReplica[] replicas, string[] tokens, int tickets)
    {
        var (body, evt) = await CreateOnSaleAsync(api, adminToken, "Load test: the waiting room's warm-up", tickets);
        var requestIds = await PreQueueAsync(api, tokens, evt.Id);
        var holders = replicas.Select(r => StreamHolder.Start(r.Address)).ToArray();
        try
        {
            var streams = requestIds.Select((id, i) => (id, tokens[i])).Where(s => s.id != 0).ToList();
            await Task.WhenAll(holders.Select((holder, h) => holder.OpenAsync(streams.Where((_, i) => i % holders.Length == h))));
            await WaitAsync(() => holders.Sum(h => h.Opened + h.Errors.Count) >= streams.Count, TimeSpan.FromMinutes(1));
            var clock = Stopwatch.StartNew();
            await api.UpdateEventAsync(adminToken, evt.Id, body with { SalesStartAt = DateTimeOffset.UtcNow });
            await WaitAsync(() => holders.Sum(h => h.Answers.Count + h.Errors.Count) >= streams.Count, TimeSpan.FromMinutes(2));
            Console.WriteLine($"Warm-up: {streams.Count:N0} buyers on streams for {tickets:N0} tickets, answered {clock.Elapsed.TotalSeconds:F2} s after the opening");
        }
        finally
        {
            foreach (var holder in holders)
            {
                await holder.DisposeAsync();
            }
        }
    }

    // A high-demand event whose sale opens in an hour: the admin moves the opening to now when the buyers are in.
    private static async Task<(CreateEventRequest Body, EventResponse Event)> CreateOnSaleAsync(EventlyApi api, string adminToken, string name, int tickets)
    {
        var startsAt = DateTimeOffset.UtcNow.AddDays(30);
        var body = new CreateEventRequest(name, "Waiting room benchmark.", "Benchmark Arena", startsAt, startsAt.AddHours(3),
            tickets, HighDemand: true, SalesStartAt: DateTimeOffset.UtcNow.AddHours(1));
        return (body, await api.CreateEventAsync(adminToken, body));
    }

    // One request per buyer, 64 at a time: each one's request id, or 0 if it was not accepted.
    private static async Task<long[]> PreQueueAsync(EventlyApi api, string[] tokens, long eventId)
    {
        var requestIds = new long[tokens.Length];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < tokens.Length)
            {
                var (status, requestId) = await api.QueueForIdAsync(tokens[n], eventId);
                requestIds[n] = status == 202 ? requestId!.Value : 0;
            }
        })));
        return requestIds;
    }

    public static void Print(WaitingRoomResult r)
    {
        Console.WriteLine();
        Console.WriteLine($"## Waiting room: {r.Buyers:N0} buyers pre-queued (in {r.PreQueueSeconds:F1} s), {r.Tickets:N0} tickets, a stream per buyer");
        Console.WriteLine($"Streams opened: {r.StreamsOpened:N0}, {r.StreamsOpened / 2:N0} per API replica; resumed with Last-Event-ID: {r.Reconnects:N0}; failed: {r.StreamErrors.Count}{string.Concat(r.StreamErrors.Select(e => "\n  " + e))}");
        Console.WriteLine("Redis calls per second with nothing but the open streams (and the worker waiting for the opening):");
        foreach (var (streams, calls) in r.RedisCost)
        {
            Console.WriteLine($"  {streams,6:N0} streams: {calls,6:N1} calls/s");
        }
        foreach (var (phase, figures) in new[] { ("streams open, before the opening", r.IdleReplicas), ("from the opening to the last answer", r.DrainReplicas) })
        {
            Console.WriteLine($"Stream replicas, {phase}: " + string.Join("; ", figures.Select(f => $"{f.Streams:N0} streams, RSS {f.RssMiB:F0} MiB, CPU {f.CpuPercent:F0}%")));
        }
        Console.WriteLine($"Opening to the last answer: {r.SecondsToLastAnswer:F2} s; a buyer's answer after the opening: p50 {r.P50Seconds:F2} s, p99 {r.P99Seconds:F2} s");
        Console.WriteLine($"Answers: {r.Confirmed:N0} confirmed, {r.Rejected:N0} rejected of {r.Accepted:N0} accepted; booked {r.Booked:N0}; " +
            $"streams answered {r.StreamAnswers:N0}, wrong {r.StreamAnswersWrong}");
        Console.WriteLine(r.Holds ? "Invariants: hold" : "Invariants: BROKEN");
    }

    // Redis's slow log (commands over 10 ms): how long the opening's scripts held Redis, which serves nothing else meanwhile.
    private static async Task<string> SlowestCommandsAsync(ConnectionMultiplexer redis)
    {
        var entries = (RedisResult[])(await redis.GetDatabase().ExecuteAsync("SLOWLOG", "GET", "128"))!;
        return entries.Length == 0 ? "none over 10 ms" : string.Join(", ", entries.OrderByDescending(e => (long)((RedisResult[])e!)[2]).Take(4).Select(e =>
        {
            var fields = (RedisResult[])e!;
            var command = ((RedisResult[])fields[3]!).Take(3).Select(a => ((string?)a ?? "")[..Math.Min(12, ((string?)a ?? "").Length)]);
            return $"{(long)fields[2] / 1000.0:F0} ms {string.Join(' ', command)}";
        }));
    }

    // Every command Redis ran over the window, whoever sent it: with nothing else happening, what the open streams cost.
    private static async Task<double> RedisCallsPerSecondAsync(ConnectionMultiplexer redis)
    {
        var before = await CommandsProcessedAsync(redis);
        var clock = Stopwatch.StartNew();
        await Task.Delay(RedisWindow);
        return (await CommandsProcessedAsync(redis) - before - 1) / clock.Elapsed.TotalSeconds;
    }

    private static async Task<long> CommandsProcessedAsync(ConnectionMultiplexer redis)
    {
        var info = (string)(await redis.GetDatabase().ExecuteAsync("INFO", "stats"))!;
        var line = info.Split('\n').Single(l => l.StartsWith("total_commands_processed:", StringComparison.Ordinal));
        return long.Parse(line.Split(':')[1].Trim(), CultureInfo.InvariantCulture);
    }

    private static async Task<List<StreamReplicaFigures>> MeasureReplicasAsync(ApiReplica[] replicas, StreamHolder[] holders, TimeSpan window)
    {
        var cpu = replicas.Select(r => r.CpuSeconds()).ToArray();
        await Task.Delay(window);
        return replicas.Select((r, i) => new StreamReplicaFigures(holders[i].Opened, r.RssMiB(), (r.CpuSeconds() - cpu[i]) / window.TotalSeconds * 100)).ToList();
    }

    private static async Task WaitAsync(Func<bool> done, TimeSpan limit, TimeSpan? every = null)
    {
        var waited = Stopwatch.StartNew();
        while (!done() && waited.Elapsed < limit)
        {
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }
    }

    private static async Task<(long Confirmed, long Rejected, long Booked, Dictionary<long, string> Statuses)> ReadAnswersAsync(string connectionString, long eventId)
    {
        await using var db = new MySqlConnection(connectionString);
        await db.OpenAsync();
        var statuses = new Dictionary<long, string>();
        await using (var reader = await new MySqlCommand($"SELECT Id, Status FROM booking_requests WHERE EventId = {eventId}", db).ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                statuses[reader.GetInt64(0)] = reader.GetString(1);
            }
        }
        var booked = Convert.ToInt64(await new MySqlCommand($"SELECT Booked FROM events WHERE Id = {eventId}", db).ExecuteScalarAsync());
        return (statuses.Values.Count(s => s == "Confirmed"), statuses.Values.Count(s => s == "Rejected"), booked, statuses);
    }
}

/// <summary>One more API process on the app's database and Redis, reached directly (not through Aspire's proxy).</summary>
internal sealed class ApiReplica : IAsyncDisposable
{
    private readonly Process _process;

    private ApiReplica(Process process, Uri address) => (_process, Address) = (process, address);

    public Uri Address { get; }

    public static async Task<ApiReplica> StartAsync(string connectionString, string redisConnectionString)
    {
        var (process, address) = await Evently.Tests.Infrastructure.ServiceLauncher.StartAsync(new Projects.Evently_ApiService().ProjectPath,
            new Dictionary<string, string?>
            {
                ["ConnectionStrings__evently"] = connectionString,
                ["ConnectionStrings__redis"] = redisConnectionString,
                ["Evently__Database__ServerVersion"] = "10.11.0-mariadb",
                ["Evently__Jwt__SigningKey"] = HighDemandScenario.SigningKey,
                ["Evently__RateLimiting__UserTokenLimit"] = "100000000",
                ["Evently__RateLimiting__AnonymousTokenLimit"] = "100000000",
                ["Evently__RateLimiting__AuthTokenLimit"] = "100000000",
                ["Logging__LogLevel__Default"] = "Warning"
            }, _ => { }, TimeSpan.FromSeconds(60));
        return new ApiReplica(process, address);
    }

    public double RssMiB() =>
        File.ReadLines($"/proc/{_process.Id}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0).Single();

    // utime + stime, in seconds (USER_HZ = 100); the fields after the command name, which may contain spaces.
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
