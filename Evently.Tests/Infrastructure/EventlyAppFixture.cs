using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// Starts the whole AppHost once for the collection: MariaDB and Redis as local processes in a
/// throw-away data dir, migrations, the API and the worker.
/// </summary>
public class EventlyAppFixture : IAsyncLifetime
{
    private LocalApp? _local;

    public DistributedApplication App => _local!.App;
    public string DataDirectory => _local!.DataDirectory;
    public OtlpCounts TelemetryReceived => _local!.Telemetry.Received;
    public HttpClient Api { get; private set; } = null!;

    // Every client below records its traffic, which OpenApiDocumentTests checks against the served document.
    public TrafficRecorder Traffic { get; } = new();
    public string DatabaseConnectionString { get; private set; } = null!;

    // Limits the tests rely on: generous everywhere except a per-user bucket small enough to burst through.
    public const int UserRateLimit = 200;

    // Known to the tests, so that another API process (ServiceProcess) accepts the fixture's tokens.
    public const string SigningKey = "evently-tests-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789";

    // Every end-to-end test runs against two API replicas and two workers: the invariants must hold across them.
    public const int Replicas = 2;

    // A waitlist offer's window, short enough for a test to watch one expire.
    public const int OfferSeconds = 4;

    // How soon the requests a killed worker had taken from the booking queue are taken by another.
    public const int QueueLeaseSeconds = 2;

    // Pre-queued requests placed per pass at an opening: the tests' pre-queues of hundreds take several passes, as an
    // on-sale of tens of thousands does with the default.
    public const int QueuePlacedPerPass = 100;

    /// <summary>More AppHost settings, for a fixture that runs the same app another way (<see cref="ClusterAppFixture"/>).</summary>
    protected virtual IEnumerable<string> Settings => [];

    public async Task InitializeAsync()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        _local = await LocalApp.StartAsync(
        [
            $"Evently:Api:RateLimiting:UserTokenLimit={UserRateLimit}",
            "Evently:Api:RateLimiting:AnonymousTokenLimit=1000000",
            "Evently:Api:RateLimiting:AuthTokenLimit=1000000",
            "Evently:Api:Testing:AllowDelayHeader=true",
            $"Parameters:jwt-signing-key={SigningKey}",
            $"Evently:Replicas:Api={Replicas}",
            $"Evently:Replicas:Worker={Replicas}",
            $"Evently:Waitlist:OfferSeconds={OfferSeconds}",
            $"Evently:Worker:Queue:LeaseSeconds={QueueLeaseSeconds}",
            $"Evently:Worker:Queue:PlacedPerPass={QueuePlacedPerPass}",
            .. Settings
        ], cancellation.Token, replicas: Replicas);

        Api = CreateApiClient();
        DatabaseConnectionString = (await App.GetConnectionStringAsync("evently", cancellation.Token))!;
    }

    /// <param name="connectionString">Another way to the same database (through a proxy, say); the app's by default.</param>
    public EventlyDbContext CreateDbContext(string? connectionString = null)
    {
        var options = new DbContextOptionsBuilder<EventlyDbContext>();
        DatabaseExtensions.Configure(options, connectionString ?? DatabaseConnectionString, ServerVersion.Parse("10.11.0-mariadb"));
        return new EventlyDbContext(options.Options);
    }

    public HttpClient CreateApiClient() => new(Traffic.Handler()) { BaseAddress = App.GetEndpoint("api", "http") };

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<EventlyAppFixture>
{
    public const string Name = "Evently app";
}
