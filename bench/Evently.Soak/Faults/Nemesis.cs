using System.Diagnostics;
using Evently.Tests.Infrastructure;

namespace Evently.Soak.Faults;

internal enum FaultKind
{
    KillApi,
    KillWorker,
    KillRedis,
    KillDatabase,
    FreezeApi,
    FreezeWorker,
    FreezeRedis,
    FreezeDatabase,
    CutRedis,
    CutDatabase
}

/// <summary>One fault as planned from the seed, and what happened: when it was healed and when its probe first succeeded again.</summary>
/// <param name="Gap">The wait before the fault; for one during an on-sale, the wait after the on-sale's requests start.</param>
/// <param name="DuringOnSale">Every third fault waits for the next on-sale, so that it hits the queue's intake and drain.</param>
internal sealed record Fault(int Number, TimeSpan Gap, FaultKind Kind, int Replica, TimeSpan Length, bool DuringOnSale)
{
    public string Target { get; set; } = "";
    public DateTime StartedAt { get; set; }
    public DateTime? HealedAt { get; set; }
    public DateTime? RecoveredAt { get; set; }

    /// <summary>From the fault to the first success of a request that needs what it broke.</summary>
    public TimeSpan? Recovery => RecoveredAt - StartedAt;

    /// <summary>While a 503 is an acceptable answer: from the fault until its probe succeeds, plus a grace for retries in flight.</summary>
    public (DateTime From, DateTime To) Window(TimeSpan grace) => (StartedAt, (RecoveredAt ?? HealedAt ?? StartedAt) + grace);
}

/// <summary>
/// Jepsen-style nemesis: after a random gap, one fault at a time, each drawn from the seed (kind, which replica,
/// how long), so a seed replays the same faults in the same order. Kills are followed by a restart (see
/// <see cref="AppResources"/>); a frozen process gets SIGCONT after a few seconds; a cut proxy is restored.
/// A probe starts with each fault and keeps asking what the fault broke until it answers again.
/// </summary>
internal sealed class Nemesis(SoakApp app, HttpClient probe, OnSaleSignal onSales, int seed, TimeSpan minGap, TimeSpan maxGap)
{
    private static readonly TimeSpan RestartTimeout = TimeSpan.FromMinutes(2);
    private static readonly FaultKind[] Kinds = Enum.GetValues<FaultKind>();

    public List<Fault> Faults { get; } = [];

    /// <summary>
    /// The faults a seed makes, in order; the same seed always makes the same ones. Kinds are dealt from a shuffled
    /// deck of all ten, so any ten faults in a row include every kind.
    /// </summary>
    public static IEnumerable<Fault> Plan(int seed, TimeSpan minGap, TimeSpan maxGap)
    {
        var random = new Random(seed);
        var deck = new Queue<FaultKind>();
        for (var number = 1; ; number++)
        {
            if (deck.Count == 0)
            {
                Kinds.OrderBy(_ => random.Next()).ToList().ForEach(deck.Enqueue);
            }
            var kind = deck.Dequeue();
            var duringOnSale = number % 3 == 0;
            var gap = duringOnSale ? TimeSpan.FromMilliseconds(random.Next(0, 1_500)) : minGap + (maxGap - minGap) * random.NextDouble();
            var replica = random.Next(SoakApp.Replicas);
            var length = kind.ToString() switch
            {
                var k when k.StartsWith("Kill", StringComparison.Ordinal) => TimeSpan.FromMilliseconds(random.Next(0, 3_000)),
                var k when k.StartsWith("Freeze", StringComparison.Ordinal) => TimeSpan.FromMilliseconds(random.Next(2_000, 6_000)),
                _ => TimeSpan.FromMilliseconds(random.Next(3_000, 8_000))
            };
            yield return new Fault(number, gap, kind, replica, length, duringOnSale);
        }
    }

    /// <summary>Injects faults until <paramref name="duration"/> has passed; the last one is healed before this returns.</summary>
    public async Task RunAsync(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        foreach (var fault in Plan(seed, minGap, maxGap))
        {
            if (fault.DuringOnSale)
            {
                var left = duration - clock.Elapsed;
                if (left <= TimeSpan.Zero || await Task.WhenAny(onSales.NextAsync(), Task.Delay(left)) is not Task<DateTime>)
                {
                    return;
                }
            }
            else if (clock.Elapsed + fault.Gap > duration)
            {
                return;
            }
            await Task.Delay(fault.Gap);
            Faults.Add(fault);
            await InjectAsync(fault);
            Console.WriteLine($"  [{fault.StartedAt:HH:mm:ss}] fault {fault.Number}: {fault.Kind} {fault.Target} for {fault.Length.TotalSeconds:0.0} s, "
                + $"healed after {(fault.HealedAt - fault.StartedAt)?.TotalSeconds:0.0} s, first success after {fault.Recovery?.TotalSeconds:0.0} s");
        }
    }

    private async Task InjectAsync(Fault fault)
    {
        using var stopProbe = new CancellationTokenSource();
        var probe = fault.Kind switch
        {
            FaultKind.CutRedis => CutAsync(fault, app.RedisProxy, "the extra API replica's Redis", stopProbe.Token),
            FaultKind.CutDatabase => CutAsync(fault, app.DatabaseProxy, "the extra API replica's database", stopProbe.Token),
            _ => SignalAsync(fault, stopProbe.Token)
        };
        var probing = await probe;
        fault.HealedAt = DateTime.UtcNow;
        await Task.WhenAny(probing, Task.Delay(RestartTimeout));
        await stopProbe.CancelAsync();
        await probing;
    }

    private async Task<Task> CutAsync(Fault fault, FaultProxy proxy, string target, CancellationToken stopProbe)
    {
        fault.Target = target;
        fault.StartedAt = DateTime.UtcNow;
        var probing = ProbeAsync(fault, new Uri(app.Extra.Address, "/health"), stopProbe);
        proxy.Break();
        await Task.Delay(fault.Length);
        proxy.Restore();
        return probing;
    }

    private async Task<Task> SignalAsync(Fault fault, CancellationToken stopProbe)
    {
        var resource = fault.Kind switch
        {
            FaultKind.KillApi or FaultKind.FreezeApi => "api",
            FaultKind.KillWorker or FaultKind.FreezeWorker => "worker",
            FaultKind.KillRedis or FaultKind.FreezeRedis => "redis",
            _ => "mysql"
        };
        var instances = app.Resources.Instances(resource);
        var instance = instances[fault.Replica % instances.Count];
        var pid = app.Resources.ProcessId(instance) ?? throw new InvalidOperationException($"{instance} has no process.");
        // An API or worker instance is asked directly on its own port; the servers through the API's /health.
        var probeAt = resource is "api" or "worker" && app.Resources.OwnAddress(instance) is { } own
            ? new Uri(own, "/alive")
            : new Uri(app.ApiEndpoint, "/health");
        fault.Target = $"{instance} (pid {pid})";
        fault.StartedAt = DateTime.UtcNow;
        var probing = ProbeAsync(fault, probeAt, stopProbe);
        if (fault.Kind.ToString().StartsWith("Kill", StringComparison.Ordinal))
        {
            AppResources.Signal(pid, "KILL");
            await Task.Delay(fault.Length);
            if (!await app.Resources.RestartAsync(instance, RestartTimeout))
            {
                Console.WriteLine($"  {instance} was not healthy again {RestartTimeout.TotalSeconds:0} s after its restart");
            }
        }
        else
        {
            AppResources.Signal(pid, "STOP");
            await Task.Delay(fault.Length);
            AppResources.Signal(pid, "CONT");
        }
        return probing;
    }

    // Every 100 ms from the fault on: the first 2xx after the fault was healed is the recovery.
    private async Task ProbeAsync(Fault fault, Uri target, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                using var response = await probe.GetAsync(target, timeout.Token);
                if (response.IsSuccessStatusCode && fault.HealedAt is not null)
                {
                    fault.RecoveredAt = DateTime.UtcNow;
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
            }
            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public static string Describe(FaultKind kind) => kind switch
    {
        FaultKind.KillApi => "kill -9 an API replica",
        FaultKind.KillWorker => "kill -9 a worker",
        FaultKind.KillRedis => "kill -9 redis-server",
        FaultKind.KillDatabase => "kill -9 mariadbd",
        FaultKind.FreezeApi => "SIGSTOP an API replica",
        FaultKind.FreezeWorker => "SIGSTOP a worker",
        FaultKind.FreezeRedis => "SIGSTOP redis-server",
        FaultKind.FreezeDatabase => "SIGSTOP mariadbd",
        FaultKind.CutRedis => "cut a replica's Redis",
        _ => "cut a replica's database"
    };
}
