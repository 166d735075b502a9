using System.Diagnostics;
using Evently.Tests.Infrastructure;

namespace Evently.Soak.Faults;

/// <summary>
/// A third API replica beside the AppHost's two, started by the soak as its own process (by the tests'
/// <see cref="ServiceLauncher"/>) with its database and Redis connections through <see cref="FaultProxy"/>s, so that the
/// nemesis can cut exactly this replica's connections while the others keep theirs. A third of the users use it.
/// </summary>
internal sealed class ExtraReplica : IAsyncDisposable
{
    private readonly Process _process;

    private ExtraReplica(Process process, Uri address) => (_process, Address) = (process, address);

    public Uri Address { get; }

    public static string LogPath => Path.Combine(ServiceLogs.Directory, "extra-api.log");

    public static async Task<ExtraReplica> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        // Its warnings and errors (the AppHost's replicas log to the OTLP sink; this one to a file), for evidence.
        var log = TextWriter.Synchronized(new StreamWriter(LogPath, append: false) { AutoFlush = true });
        var (process, address) = await ServiceLauncher.StartAsync(new Projects.Evently_ApiService().ProjectPath, settings, log.WriteLine,
            TimeSpan.FromSeconds(60), readyPath: "/health");
        return new ExtraReplica(process, address);
    }

    public int ProcessId => _process.Id;

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
