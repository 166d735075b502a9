using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace Evently.LoadTest;

/// <summary>
/// The whole app started like the end-to-end test fixture does: MariaDB and Redis as local processes in a
/// throw-away data dir, migrations, the API and the worker, with rate limits out of the way.
/// </summary>
internal sealed class EventlyApp : IAsyncDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"evently-bench-{Guid.NewGuid():N}");
    private DistributedApplication? _app;

    public Uri ApiEndpoint => _app!.GetEndpoint("api", "http");

    public static async Task<EventlyApp> StartAsync()
    {
        var evently = new EventlyApp();
        try
        {
            await evently.StartCoreAsync();
            return evently;
        }
        catch
        {
            await evently.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Evently_AppHost>(
        [
            "Evently:Infrastructure=processes",
            $"Evently:DataDir={_dataDirectory}",
            "Evently:SeedDemoData=false",
            "Evently:Api:RateLimiting:UserTokenLimit=100000000",
            "Evently:Api:RateLimiting:AnonymousTokenLimit=100000000",
            "Evently:Api:RateLimiting:AuthTokenLimit=100000000",
            // Only what goes wrong, and not the health probes that fail while the servers start.
            "Logging:LogLevel:Default=Warning",
            "Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None",
            // MariaDB writes its start-up notes to stderr, which would read as errors.
            "Logging:LogLevel:Evently.AppHost.Resources.mysql=None"
        ], cancellation.Token);

        _app = await builder.BuildAsync(cancellation.Token);
        await _app.StartAsync(cancellation.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("api", cancellation.Token);
        // The worker shares the machine: waiting keeps its start-up out of the measurements.
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("worker", cancellation.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try
        {
            if (Directory.Exists(_dataDirectory))
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A server that is still flushing keeps a file open; the OS cleans temp eventually.
            Console.Error.WriteLine($"Could not delete {_dataDirectory}: {ex.Message}");
        }
    }
}
