using System.Diagnostics;
using Evently.AppHost.Infrastructure;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// Starts a built service of the solution (the API or the worker) as its own OS process, outside the AppHost but with
/// the runtime settings the AppHost gives it, on a free local port, and waits until it answers (<c>/alive</c>). The
/// tests' extra replicas, the benchmark's stream replicas and the soak's replica behind proxies all start this way.
/// </summary>
public static class ServiceLauncher
{
    /// <summary>The build the services are run from: the caller's own.</summary>
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <param name="projectPath">The service's project (<c>new Projects.Evently_ApiService().ProjectPath</c>).</param>
    /// <param name="settings">Its environment: connection strings and settings, which win over the runtime settings.</param>
    /// <param name="output">Each line the process writes, from its own threads.</param>
    /// <param name="timeout">How long it may take to answer.</param>
    /// <param name="readyPath">What it must answer with a success: <c>/alive</c> (running), or <c>/health</c> (its database and Redis reached).</param>
    public static async Task<(Process Process, Uri Address)> StartAsync(
        string projectPath, IReadOnlyDictionary<string, string?> settings, Action<string> output, TimeSpan timeout, string readyPath = "/alive")
    {
        var directory = Path.GetDirectoryName(projectPath)!;
        var assembly = Path.Combine(directory, "bin", Configuration, "net10.0", Path.GetFileNameWithoutExtension(projectPath) + ".dll");
        var address = new Uri($"http://127.0.0.1:{LocalProcesses.FreePort()}");
        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        foreach (var (name, value) in RuntimeTuning.Environment)
        {
            start.Environment[name] = value;
        }
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }
        start.Environment["ASPNETCORE_URLS"] = address.ToString();
        var process = Process.Start(start)!;
        DataReceivedEventHandler write = (_, line) =>
        {
            if (line.Data is { } text)
            {
                output(text);
            }
        };
        process.OutputDataReceived += write;
        process.ErrorDataReceived += write;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Path.GetFileName(assembly)} exited at start (code {process.ExitCode}).");
            }
            try
            {
                if ((await http.GetAsync(readyPath)).IsSuccessStatusCode)
                {
                    return (process, address);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (waited.Elapsed > timeout)
            {
                process.Kill();
                throw new TimeoutException($"{Path.GetFileName(assembly)} did not answer {readyPath} within {timeout.TotalSeconds} s.");
            }
            await Task.Delay(200);
        }
    }
}
