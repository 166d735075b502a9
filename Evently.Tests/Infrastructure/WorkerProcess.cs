using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// One more replica of Evently.Worker, as its own OS process on the fixture's database, Redis and mail
/// server, so that tests can race replicas and kill one with SIGKILL.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    /// <param name="offerSeconds">The offer window: long by default, so that no offer expires while a test counts them.</param>
    public static async Task<WorkerProcess> StartAsync(EventlyAppFixture fixture, int offerSeconds = 300)
    {
        var projectDirectory = Path.GetDirectoryName(new Projects.Evently_Worker().ProjectPath)!;
        var assembly = Path.Combine(projectDirectory, "bin", DotnetProject.Configuration, "net10.0", "Evently.Worker.dll");
        var port = FreePort();
        var startInfo = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = projectDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ConnectionStrings__evently"] = fixture.DatabaseConnectionString,
                ["ConnectionStrings__redis"] = await fixture.App.GetConnectionStringAsync("redis"),
                ["ConnectionStrings__smtp"] = await fixture.App.GetConnectionStringAsync("smtp"),
                ["Evently__Database__ServerVersion"] = "10.11.0-mariadb",
                ["Evently__Waitlist__OfferSeconds"] = offerSeconds.ToString(),
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["Logging__LogLevel__Default"] = "Warning"
            }
        };
        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            Assert.False(process.HasExited, "the worker replica exited at start");
            try
            {
                return (await http.GetAsync("/health")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "the worker replica's start");
        return new WorkerProcess(process);
    }

    /// <summary>SIGKILL: no shutdown, no cleanup, whatever it was doing.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-9", _process.Id.ToString()])!.WaitForExit();
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
