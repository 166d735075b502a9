using System.Diagnostics;
using System.Net.Sockets;

namespace Evently.Soak.Faults;

/// <summary>
/// A third API replica beside the AppHost's two, started by the soak as its own process (as the tests'
/// ServiceProcess does) with its database and Redis connections through <see cref="FaultProxy"/>s, so that the
/// nemesis can cut exactly this replica's connections while the others keep theirs. A third of the users use it.
/// </summary>
internal sealed class ExtraReplica : IAsyncDisposable
{
    private readonly Process _process;

    private ExtraReplica(Process process, Uri address) => (_process, Address) = (process, address);

    public Uri Address { get; }

    public static string LogPath => Path.Combine(ServiceLogs.Directory, "extra-api.log");

    public static async Task<ExtraReplica> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var project = new Projects.Evently_ApiService().ProjectPath;
        var directory = Path.GetDirectoryName(project)!;
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var assembly = Path.Combine(directory, "bin", configuration, "net10.0", "Evently.ApiService.dll");
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        start.Environment["ASPNETCORE_URLS"] = address.ToString();
        var process = Process.Start(start)!;
        // Its warnings and errors (the AppHost's replicas log to the OTLP sink; this one to a file), for evidence.
        var log = TextWriter.Synchronized(new StreamWriter(LogPath, append: false) { AutoFlush = true });
        process.OutputDataReceived += (_, line) => log.WriteLine(line.Data);
        process.ErrorDataReceived += (_, line) => log.WriteLine(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The extra API replica exited at start (code {process.ExitCode}).");
            }
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return new ExtraReplica(process, address);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                process.Kill();
                throw new TimeoutException("The extra API replica did not become healthy within 60 s.");
            }
            await Task.Delay(200);
        }
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

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
