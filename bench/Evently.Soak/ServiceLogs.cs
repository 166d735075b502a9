using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Evently.Soak;

/// <summary>
/// The console output of every API and worker instance, one file each under <see cref="Directory"/>: the stack
/// trace behind a 500 is there (the services' telemetry goes to a sink that keeps only counts). A restarted
/// instance's log goes on in the same file.
/// </summary>
internal sealed class ServiceLogs : IAsyncDisposable
{
    public static readonly string Directory = Path.Combine(Path.GetTempPath(), "evently-soak-logs");

    private readonly ResourceLoggerService _logs;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Task> _watching = new();

    public ServiceLogs(DistributedApplication app)
    {
        _logs = app.Services.GetRequiredService<ResourceLoggerService>();
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        System.IO.Directory.CreateDirectory(Directory);
    }

    public void Capture(string resourceId) => _watching.GetOrAdd(resourceId, id => Task.Run(() => WatchAsync(id)));

    private async Task WatchAsync(string resourceId)
    {
        await using var file = new StreamWriter(Path.Combine(Directory, $"{resourceId}.log")) { AutoFlush = true };
        var written = 0;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                // A watch ends when the instance stops; the next one replays the backlog, which is skipped.
                await foreach (var batch in _logs.WatchAsync(resourceId).WithCancellation(_stop.Token))
                {
                    foreach (var line in batch.Where(l => l.LineNumber > written))
                    {
                        await file.WriteLineAsync(line.Content);
                        written = line.LineNumber;
                    }
                }
                await Task.Delay(1_000, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_watching.Values);
        _stop.Dispose();
    }
}
