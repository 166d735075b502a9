using System.Diagnostics;
using System.Globalization;

namespace Evently.LoadTest;

/// <summary>
/// CPU time each kind of process on the machine used over a measured window, from <c>/proc/{pid}/stat</c>: what a
/// load costs in all, and who pays for it (the app, its servers, Aspire's proxy, or this load generator).
/// </summary>
internal sealed class CpuUse
{
    // USER_HZ, the unit of utime and stime: 100 on every mainstream Linux.
    private const double TicksPerSecond = 100;

    private static readonly (string Marker, string Name)[] Kinds =
    [
        ("Evently.ApiService", "API"), ("Evently.Worker", "worker"), ("mariadbd", "MariaDB"), ("mysqld", "MariaDB"),
        ("redis-server", "Redis"), ("Rnwood.Smtp4dev", "smtp4dev"), ("smtp4dev", "smtp4dev"), ("/dcp", "DCP (proxy)"), (StreamHolder.ChildArgument, "stream holders")
    ];

    private readonly Dictionary<int, long> _start = Snapshot();
    private readonly long _started = Stopwatch.GetTimestamp();

    public static CpuUse Start() => new();

    /// <summary>"API 54%, MariaDB 35%, ... (177% of 200%)": percent of one core, over the window so far. Empty off Linux.</summary>
    public string Report()
    {
        var end = Snapshot();
        if (end.Count == 0)
        {
            return "";
        }
        var seconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var self = Environment.ProcessId;
        var byKind = new Dictionary<string, long>();
        foreach (var (pid, ticks) in end)
        {
            var used = ticks - _start.GetValueOrDefault(pid);
            if (used <= 0)
            {
                continue;
            }
            var kind = pid == self ? "load generator" : KindOf(pid);
            byKind[kind] = byKind.GetValueOrDefault(kind) + used;
        }
        string Percent(long ticks) => $"{ticks / TicksPerSecond / seconds * 100:0}%";
        var total = byKind.Values.Sum();
        return string.Join(", ", byKind.OrderByDescending(k => k.Value).Where(k => k.Value / TicksPerSecond / seconds >= 0.01)
                .Select(k => $"{k.Key} {Percent(k.Value)}"))
            + $" ({Percent(total)} of {Environment.ProcessorCount * 100}%)";
    }

    /// <summary>
    /// Waits, at most <paramref name="limit"/>, until the processes of one kind use less than a twentieth of a core:
    /// a server still busy with an earlier scenario's work would be measured with the next one.
    /// </summary>
    public static async Task WaitUntilIdleAsync(string kind, TimeSpan limit)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < limit)
        {
            var window = Start();
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (window.Cores(kind) < 0.05)
            {
                return;
            }
        }
    }

    // Cores used by one kind of process since the window started.
    private double Cores(string kind)
    {
        var seconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var used = Snapshot().Where(p => KindOf(p.Key) == kind).Sum(p => p.Value - _start.GetValueOrDefault(p.Key));
        return used / TicksPerSecond / seconds;
    }

    private static string KindOf(int pid)
    {
        var commandLine = AppProcesses.TryRead($"/proc/{pid}/cmdline")?.Replace('\0', ' ') ?? "";
        return Kinds.FirstOrDefault(k => commandLine.Contains(k.Marker, StringComparison.Ordinal)).Name ?? "other";
    }

    // utime + stime of every process; /proc/{pid}/stat's comm may hold spaces, so fields are read after the last ')'.
    internal static Dictionary<int, long> Snapshot()
    {
        var ticks = new Dictionary<int, long>();
        if (!Directory.Exists("/proc/self"))
        {
            return ticks;
        }
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || AppProcesses.TryRead($"/proc/{pid}/stat") is not { } stat)
            {
                continue;
            }
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 12
                && long.TryParse(fields[11], CultureInfo.InvariantCulture, out var user)
                && long.TryParse(fields[12], CultureInfo.InvariantCulture, out var system))
            {
                ticks[pid] = user + system;
            }
        }
        return ticks;
    }
}
