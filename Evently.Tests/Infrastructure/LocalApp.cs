using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// The whole AppHost started for automation: MariaDB and Redis as local processes in a throw-away data
/// dir, no demo data, quiet logs. Shared by the test fixture and the load benchmark (linked there).
/// </summary>
public sealed class LocalApp : IAsyncDisposable
{
    private LocalApp(DistributedApplication app, string dataDirectory, OtlpSink telemetry) =>
        (App, DataDirectory, Telemetry) = (app, dataDirectory, telemetry);

    public DistributedApplication App { get; }

    /// <summary>Where the services export their traces, metrics and logs (in place of the dashboard).</summary>
    public OtlpSink Telemetry { get; }

    /// <summary>Where the AppHost keeps the local servers' data (<c>Evently:DataDir</c>): mysql/, redis/.</summary>
    public string DataDirectory { get; }

    /// <param name="settings">More AppHost configuration, as <c>Key=Value</c>.</param>
    /// <param name="configure">Changes to the app model before it is built (the soak keeps every mail smtp4dev receives).</param>
    public static async Task<LocalApp> StartAsync(IEnumerable<string> settings, CancellationToken cancellationToken, int replicas = 1,
        Action<IDistributedApplicationTestingBuilder>? configure = null)
    {
        string[] args =
        [
            "Evently:Infrastructure=processes",
            "Evently:SeedDemoData=false",
            // Only what goes wrong, and not the health probes that fail while the servers start.
            "Logging:LogLevel:Default=Warning",
            "Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None",
            // MariaDB writes its start-up notes to stderr, which would read as errors.
            "Logging:LogLevel:Evently.AppHost.Resources.mysql=None",
            .. settings
        ];
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"evently-{Guid.NewGuid():N}");
        var telemetry = await OtlpSink.StartAsync(cancellationToken);
        DistributedApplication app;
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Evently_AppHost>(
                [.. args, $"Evently:DataDir={dataDirectory}", $"ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL={telemetry.Endpoint}"],
                cancellationToken);
            configure?.Invoke(builder);
            app = await builder.BuildAsync(cancellationToken);
        }
        catch
        {
            await telemetry.DisposeAsync();
            throw;
        }

        var local = new LocalApp(app, dataDirectory, telemetry);
        try
        {
            await local.App.StartAsync(cancellationToken);
            await WaitForHealthyReplicasAsync(local.App, "api", replicas, cancellationToken);
            await WaitForHealthyReplicasAsync(local.App, "worker", replicas, cancellationToken);
            return local;
        }
        catch
        {
            await local.DisposeAsync();
            throw;
        }
    }

    // Every replica, not just the first: the endpoint spreads requests over all of them.
    private static async Task WaitForHealthyReplicasAsync(DistributedApplication app, string resource, int replicas, CancellationToken cancellationToken)
    {
        var healthy = new HashSet<string>();
        await app.ResourceNotifications.WaitForResourceAsync(resource, update =>
        {
            if (update.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
            {
                healthy.Add(update.ResourceId);
            }
            return healthy.Count >= replicas;
        }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await Telemetry.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A server still flushing keeps a file open; temp is cleaned eventually.
        }
    }
}
