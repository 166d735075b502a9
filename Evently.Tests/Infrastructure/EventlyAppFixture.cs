using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// Starts the whole AppHost once for the collection: MariaDB and Redis as local processes in a
/// throw-away data dir, migrations, the API and the worker.
/// </summary>
public sealed class EventlyAppFixture : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"evently-tests-{Guid.NewGuid():N}");

    public DistributedApplication App { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    public string DatabaseConnectionString { get; private set; } = null!;

    // Limits the tests rely on: generous everywhere except a per-user bucket small enough to burst through.
    public const int UserRateLimit = 200;

    public async Task InitializeAsync()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Evently_AppHost>(
        [
            "Evently:Infrastructure=processes",
            $"Evently:DataDir={_dataDirectory}",
            "Evently:SeedDemoData=false",
            $"Evently:Api:RateLimiting:UserTokenLimit={UserRateLimit}",
            "Evently:Api:RateLimiting:AnonymousTokenLimit=1000000",
            "Evently:Api:RateLimiting:AuthTokenLimit=1000000",
            "Logging:LogLevel:Default=Warning",
            "Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None"
        ], cancellation.Token);

        App = await builder.BuildAsync(cancellation.Token);
        await App.StartAsync(cancellation.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("api", cancellation.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("worker", cancellation.Token);

        Api = App.CreateHttpClient("api");
        DatabaseConnectionString = (await App.GetConnectionStringAsync("evently", cancellation.Token))!;
    }

    public EventlyDbContext CreateDbContext()
    {
        var options = new DbContextOptionsBuilder<EventlyDbContext>();
        DatabaseExtensions.Configure(options, DatabaseConnectionString, ServerVersion.Parse("10.11.0-mariadb"));
        return new EventlyDbContext(options.Options);
    }

    public HttpClient CreateApiClient() => App.CreateHttpClient("api");

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A server that is still flushing keeps a file open; the OS cleans temp eventually.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<EventlyAppFixture>
{
    public const string Name = "Evently app";
}
