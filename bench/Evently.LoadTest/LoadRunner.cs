using System.Diagnostics;
using System.Globalization;

namespace Evently.LoadTest;

internal sealed record LoadSettings(
    int Clients, TimeSpan Duration, TimeSpan WarmUp, bool Direct, bool Mixed, bool Queue, int QueueRequests, int QueueTickets,
    bool Analytics, int AnalyticsEvents, int AnalyticsBookings, int AnalyticsCalls, bool WaitingRoom = false, int Buyers = 20_000)
{
    // Far above what one client can do, so it only matters if the clock misbehaves: every loop ends.
    public int MaxRequestsPerClient => (int)Math.Ceiling(Math.Max(Duration.TotalSeconds, WarmUp.TotalSeconds) * 10_000);

    public static LoadSettings Parse(string[] args)
    {
        int Option(string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
        }

        var scenarios = Array.IndexOf(args, "--scenarios") is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : "direct,mixed,queue";
        return new(Clients: Option("--clients", 64), Duration: TimeSpan.FromSeconds(Option("--duration", 20)),
            WarmUp: TimeSpan.FromSeconds(3), Direct: scenarios.Contains("direct"), Mixed: scenarios.Contains("mixed"),
            Queue: scenarios.Contains("queue"),
            QueueRequests: Option("--requests", 100_000), QueueTickets: Option("--tickets", 10_000),
            Analytics: scenarios.Contains("analytics"), AnalyticsEvents: Option("--events", 10_000),
            AnalyticsBookings: Option("--bookings", 1_000_000), AnalyticsCalls: Option("--calls", 50),
            WaitingRoom: scenarios.Contains("waitingroom"), Buyers: Option("--buyers", 20_000));
    }
}

/// <summary>One request: its HTTP status (<see cref="EventlyApi.NoResponse"/> if none came back) and latency.</summary>
internal readonly record struct Sample(int Status, double LatencyMs);

internal sealed record ScenarioResult(
    string Name, int Requests, int Successes, IReadOnlyDictionary<int, int> ErrorsByStatus, double Seconds,
    double P50Ms, double P99Ms)
{
    public double Throughput => Requests / Seconds;
    public double SuccessThroughput => Successes / Seconds;

    public static ScenarioResult From(string name, int successStatus, IReadOnlyList<Sample> samples, TimeSpan elapsed)
    {
        var latencies = samples.Select(s => s.LatencyMs).Order().ToArray();
        var errors = samples.Where(s => s.Status != successStatus).CountBy(s => s.Status).ToDictionary();
        return new(name, samples.Count, samples.Count - errors.Values.Sum(), errors, elapsed.TotalSeconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.99));
    }

    // Nearest-rank percentile of sorted values.
    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

/// <summary>One population of closed-loop clients: what each client sends, and the status that counts as success.</summary>
internal sealed record Load(string Name, int SuccessStatus, Func<int, Task<Sample>> Send)
{
    public Load(string name, int successStatus, Func<int, Task<int>> send) : this(name, successStatus, client => TimedAsync(send, client))
    {
    }

    /// <summary>The request's status, and how long it took from sending to its answer.</summary>
    public static async Task<Sample> TimedAsync(Func<int, Task<int>> send, int client)
    {
        var started = Stopwatch.GetTimestamp();
        var status = await send(client);
        return new Sample(status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}

/// <summary>Closed-loop load: each client sends its next request as soon as the previous one is answered.</summary>
internal static class LoadRunner
{
    public static async Task<ScenarioResult> RunAsync(
        string name, int successStatus, LoadSettings settings, Func<int, Task<int>> send) =>
        (await RunTogetherAsync(settings, [new Load(name, successStatus, send)]))[0];

    /// <summary>Like <see cref="RunAsync"/>, for a request that times what it measures itself (after a preparation it leaves out).</summary>
    public static async Task<ScenarioResult> RunTimedAsync(
        string name, int successStatus, LoadSettings settings, Func<int, Task<Sample>> send) =>
        (await RunTogetherAsync(settings, [new Load(name, successStatus, send)]))[0];

    /// <summary>
    /// Several loads at once, each with its own <see cref="LoadSettings.Clients"/> clients, warmed up and measured
    /// together; <paramref name="duringMeasurement"/> (given the measured duration) runs beside the measured window.
    /// </summary>
    public static async Task<ScenarioResult[]> RunTogetherAsync(
        LoadSettings settings, IReadOnlyList<Load> loads, Func<TimeSpan, Task>? duringMeasurement = null)
    {
        Console.WriteLine($"Running {string.Join(" + ", loads.Select(l => l.Name))}: "
            + $"{settings.WarmUp.TotalSeconds:0} s warm-up, {settings.Duration.TotalSeconds:0} s measured");
        await Task.WhenAll(loads.Select(l => RunClientsAsync(settings.Clients, settings.WarmUp, settings.MaxRequestsPerClient, l.Send)));

        var clock = Stopwatch.StartNew();
        var cpu = CpuUse.Start();
        var measured = loads.Select(l => RunClientsAsync(settings.Clients, settings.Duration, settings.MaxRequestsPerClient, l.Send)).ToArray();
        var beside = duringMeasurement?.Invoke(settings.Duration) ?? Task.CompletedTask;
        var samples = await Task.WhenAll(measured);
        var elapsed = clock.Elapsed;
        Console.WriteLine($"  CPU while measured, % of one core: {cpu.Report()}");
        await beside;
        return loads.Select((l, i) => ScenarioResult.From(l.Name, l.SuccessStatus, samples[i].SelectMany(s => s).ToList(), elapsed)).ToArray();
    }

    private static Task<List<Sample>[]> RunClientsAsync(
        int clients, TimeSpan duration, int maxRequests, Func<int, Task<Sample>> send) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(() => LoopAsync(client, duration, maxRequests, send))));

    private static async Task<List<Sample>> LoopAsync(int client, TimeSpan duration, int maxRequests, Func<int, Task<Sample>> send)
    {
        var samples = new List<Sample>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration && samples.Count < maxRequests)
        {
            samples.Add(await send(client));
        }
        return samples;
    }
}
