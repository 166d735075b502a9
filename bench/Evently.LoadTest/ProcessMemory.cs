using System.Globalization;

namespace Evently.LoadTest;

/// <summary>Resident memory of one of the app's processes, from <c>/proc/{pid}/status</c>.</summary>
internal sealed record ProcessMemory(string Service, int Pid, long RssBytes, long PeakRssBytes);

/// <summary>
/// Finds the API and worker processes the AppHost started for this run and reads their memory. The AppHost
/// runs in this process and starts them through DCP, which detaches from it (its parent becomes init) but is
/// told to watch it: <c>dcp start-apiserver --monitor {our pid}</c>. So this run's processes are the
/// descendants of this process and of such a DCP, and no other app's (another worktree's tests) are.
/// DCP starts a project as <c>dotnet run --project .../Evently.ApiService.csproj</c>, whose child runs the
/// code: of the processes whose command line names a service, only the innermost counts.
/// </summary>
internal static class AppProcesses
{
    private static readonly (string Service, string Marker)[] Services =
        [("API", "Evently.ApiService"), ("Worker", "Evently.Worker")];

    /// <summary>Linux only (<c>/proc</c>); empty elsewhere.</summary>
    public static IReadOnlyList<ProcessMemory> ReadMemory()
    {
        if (!Directory.Exists("/proc/self"))
        {
            return [];
        }

        var parents = new Dictionary<int, int>();
        var commandLines = new Dictionary<int, string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && ParentOf(pid) is { } parent)
            {
                parents[pid] = parent;
                commandLines[pid] = TryRead($"/proc/{pid}/cmdline") ?? "";
            }
        }

        var self = Environment.ProcessId;
        var roots = commandLines.Where(p => Monitors(p.Value, self)).Select(p => p.Key).Append(self).ToList();
        var ours = parents.Keys.Where(pid => roots.Any(root => IsDescendant(pid, root, parents))).ToList();
        var found = new List<ProcessMemory>();
        foreach (var (service, marker) in Services)
        {
            var matching = ours.Where(pid => commandLines[pid].Contains(marker, StringComparison.Ordinal)).ToHashSet();
            // A launcher's descendant also matches: keep the processes with no matching descendant.
            var innermost = matching.Where(pid => !matching.Any(other => other != pid && IsDescendant(other, pid, parents)));
            foreach (var pid in innermost.Order())
            {
                if (ReadStatus(pid) is { } memory)
                {
                    found.Add(new ProcessMemory(service, pid, memory.Rss, memory.Peak));
                }
            }
        }
        return found;
    }

    // "dcp start-apiserver --monitor 12345 ...": a DCP that stops when process 12345 does.
    private static bool Monitors(string commandLine, int pid)
    {
        var args = commandLine.Split('\0');
        var monitor = Array.IndexOf(args, "--monitor");
        return monitor >= 0 && monitor + 1 < args.Length && args[monitor + 1] == pid.ToString(CultureInfo.InvariantCulture)
            && Path.GetFileName(args[0]) == "dcp";
    }

    private static bool IsDescendant(int pid, int ancestor, Dictionary<int, int> parents)
    {
        for (var depth = 0; depth < 64 && parents.TryGetValue(pid, out var parent) && parent > 0; depth++, pid = parent)
        {
            if (parent == ancestor)
            {
                return true;
            }
        }
        return false;
    }

    // /proc/{pid}/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so read after the last ')'.
    private static int? ParentOf(int pid)
    {
        var stat = TryRead($"/proc/{pid}/stat");
        var end = stat?.LastIndexOf(')') ?? -1;
        if (end < 0)
        {
            return null;
        }
        var fields = stat![(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 1 && int.TryParse(fields[1], CultureInfo.InvariantCulture, out var parent) ? parent : null;
    }

    // "VmRSS:   184320 kB" and "VmHWM:   201234 kB" (the peak resident set size).
    private static (long Rss, long Peak)? ReadStatus(int pid)
    {
        var lines = TryRead($"/proc/{pid}/status")?.Split('\n');
        long? Kilobytes(string field) => lines?.FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal)) is { } line
            && long.TryParse(line[(field.Length + 1)..].Replace("kB", "").Trim(), CultureInfo.InvariantCulture, out var kb)
                ? kb * 1024
                : null;
        return Kilobytes("VmRSS") is { } rss && Kilobytes("VmHWM") is { } peak ? (rss, peak) : null;
    }

    // A process may exit between listing and reading.
    internal static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
