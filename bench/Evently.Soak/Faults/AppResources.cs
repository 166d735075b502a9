using System.Collections.Concurrent;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evently.Soak.Faults;

/// <summary>
/// The AppHost's processes as the nemesis sees them: each replica's resource id and OS process, killed or frozen
/// with signals, and started again with Aspire's own resource command. DCP does not restart an executable or a
/// project replica that died (it shows it Finished, exit code 137 or -1, with <c>resource-start</c> enabled), so
/// the soak restarts it with <see cref="ResourceCommandService"/> as the dashboard's Start button would: a project
/// on its own port again, <c>mariadbd</c> and <c>redis-server</c> on their port and their data dir, with their
/// start-up secret files written again by the AppHost's before-start hooks.
/// </summary>
internal sealed class AppResources : IAsyncDisposable
{
    private readonly DistributedApplication _app;
    private readonly ConcurrentDictionary<string, ResourceEvent> _latest = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watch;

    public AppResources(DistributedApplication app)
    {
        _app = app;
        _watch = Task.Run(async () =>
        {
            try
            {
                await foreach (var update in app.ResourceNotifications.WatchAsync(_stop.Token))
                {
                    _latest[update.ResourceId] = update;
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>The instances of a resource (two for a replicated project), in a stable order, so a seed names the same one every run.</summary>
    public IReadOnlyList<string> Instances(string resourceName) => _latest.Values
        .Where(e => e.Resource.Name == resourceName && e.Snapshot.Properties.Any(p => p.Name == "executable.pid"))
        .Select(e => e.ResourceId).Order(StringComparer.Ordinal).ToList();

    public async Task WaitForInstancesAsync(string resourceName, int count)
    {
        for (var i = 0; i < 100 && Instances(resourceName).Count < count; i++)
        {
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The OS process that runs the instance's code. DCP starts a project as <c>dotnet run --project ...</c>, whose
    /// child is the service: killing the launcher would leave the service running as an orphan.
    /// </summary>
    public int? ProcessId(string resourceId)
    {
        if (!_latest.TryGetValue(resourceId, out var update)
            || update.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is not { } value
            || !int.TryParse(value.ToString(), CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }
        while (File.Exists($"/proc/{pid}/task/{pid}/children")
            && File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var child, ..])
        {
            pid = int.Parse(child, CultureInfo.InvariantCulture);
        }
        return pid;
    }

    /// <summary>Where a project instance listens itself (behind DCP's proxy), from its environment: <c>ASPNETCORE_URLS</c>.</summary>
    public Uri? OwnAddress(string resourceId) =>
        ProcessId(resourceId) is { } pid && TryRead($"/proc/{pid}/environ") is { } environment
            && environment.Split('\0').FirstOrDefault(v => v.StartsWith("ASPNETCORE_URLS=", StringComparison.Ordinal)) is { } urls
                ? new Uri(urls["ASPNETCORE_URLS=".Length..].Split(';')[0])
                : null;

    public bool IsRunning(string resourceId) =>
        _latest.TryGetValue(resourceId, out var update) && update.Snapshot.State?.Text == KnownResourceStates.Running;

    public bool IsHealthy(string resourceId) =>
        IsRunning(resourceId) && _latest[resourceId].Snapshot.HealthStatus is null or HealthStatus.Healthy;

    public static void Signal(int pid, string signal) =>
        System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();

    /// <summary>Waits for DCP to see the instance stopped, then starts it again and waits until it is running and healthy.</summary>
    public async Task<bool> RestartAsync(string resourceId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsRunning(resourceId) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline)
        {
            var started = await _app.ResourceCommands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand);
            if (started.Success)
            {
                break;
            }
            await Task.Delay(500);
        }
        return await WaitUntilAsync(() => IsHealthy(resourceId), deadline);
    }

    public async Task<bool> AllHealthyAsync(IEnumerable<string> resourceNames, TimeSpan timeout)
    {
        var names = resourceNames.ToList();
        return await WaitUntilAsync(() => names.All(name => Instances(name) is { Count: > 0 } ids && ids.All(IsHealthy)),
            DateTime.UtcNow + timeout);
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, DateTime deadline)
    {
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(100);
        }
        return true;
    }

    private static string? TryRead(string path)
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

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watch;
        _stop.Dispose();
    }
}
