using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Evently.AppHost.Infrastructure;
using Evently.Soak.Faults;
using Evently.Tests.Infrastructure;
using MySqlConnector;

namespace Evently.Soak;

/// <summary>
/// The whole app for a soak: the AppHost as the end-to-end tests start it (processes mode, fresh data dir) with
/// two API replicas and two workers, rate limits out of the way, a short waitlist offer window (so offers expire
/// during the run), smtp4dev keeping every mail; plus a third API replica whose database and Redis go through
/// fault proxies.
/// </summary>
internal sealed class SoakApp : IAsyncDisposable
{
    public const int Replicas = 2;
    public const int OfferSeconds = 20;
    // Known to the soak, so that the extra replica accepts the tokens the AppHost's replicas issue.
    private const string SigningKey = "evently-soak-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789";

    private readonly LocalApp _local;

    private readonly ServiceLogs _logs;

    private SoakApp(LocalApp local, ServiceLogs logs, AppResources resources, ExtraReplica extra, FaultProxy database, FaultProxy redis,
        string connectionString)
    {
        (_local, _logs, Resources, Extra, DatabaseProxy, RedisProxy, DatabaseConnectionString) =
            (local, logs, resources, extra, database, redis, connectionString);
    }

    public AppResources Resources { get; }
    public ExtraReplica Extra { get; }
    public FaultProxy DatabaseProxy { get; }
    public FaultProxy RedisProxy { get; }
    public string DatabaseConnectionString { get; }
    public Uri ApiEndpoint => _local.App.GetEndpoint("api", "http");
    public Uri MailEndpoint => _local.App.GetEndpoint("smtp", "http");

    public static async Task<SoakApp> StartAsync()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var local = await LocalApp.StartAsync(
        [
            "Evently:Api:RateLimiting:UserTokenLimit=100000000",
            "Evently:Api:RateLimiting:AnonymousTokenLimit=100000000",
            "Evently:Api:RateLimiting:AuthTokenLimit=100000000",
            $"Parameters:jwt-signing-key={SigningKey}",
            $"Evently:Replicas:Api={Replicas}",
            $"Evently:Replicas:Worker={Replicas}",
            $"Evently:Api:Waitlist:OfferSeconds={OfferSeconds}",
            $"Evently:Worker:Waitlist:OfferSeconds={OfferSeconds}"
        ], cancellation.Token, Replicas, KeepEveryMail);

        var resources = new AppResources(local.App);
        var logs = new ServiceLogs(local.App);
        var database = (await local.App.GetConnectionStringAsync("evently", cancellation.Token))!;
        var redis = (await local.App.GetConnectionStringAsync("redis", cancellation.Token))!;
        var databaseProxy = new FaultProxy("127.0.0.1", (int)new MySqlConnectionStringBuilder(database).Port);
        var (redisHost, redisRest) = SplitRedis(redis);
        var redisProxy = new FaultProxy("127.0.0.1", int.Parse(redisHost.Split(':')[1]));
        var extra = await ExtraReplica.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__evently"] = new MySqlConnectionStringBuilder(database) { Port = (uint)databaseProxy.Port }.ConnectionString,
            ["ConnectionStrings__redis"] = $"127.0.0.1:{redisProxy.Port}{redisRest}",
            ["ConnectionStrings__smtp"] = (await local.App.GetConnectionStringAsync("smtp", cancellation.Token))!,
            ["Evently__Database__ServerVersion"] = "10.11.0-mariadb",
            ["Evently__Jwt__SigningKey"] = SigningKey,
            ["Evently__RateLimiting__UserTokenLimit"] = "100000000",
            ["Evently__RateLimiting__AnonymousTokenLimit"] = "100000000",
            ["Evently__RateLimiting__AuthTokenLimit"] = "100000000",
            ["Evently__Waitlist__OfferSeconds"] = OfferSeconds.ToString(),
            ["Logging__LogLevel__Default"] = "Warning"
        });
        foreach (var service in new[] { "api", "worker" })
        {
            await resources.WaitForInstancesAsync(service, Replicas);
            resources.Instances(service).ToList().ForEach(logs.Capture);
        }
        return new SoakApp(local, logs, resources, extra, databaseProxy, redisProxy, database);
    }

    // smtp4dev keeps the last 100 mails by default; the check counts every mail of the run.
    private static void KeepEveryMail(IDistributedApplicationTestingBuilder builder)
    {
        var smtp = builder.Resources.OfType<Smtp4devResource>().Single();
        builder.CreateResourceBuilder(smtp).WithArgs("--messagestokeep=10000000");
    }

    // "127.0.0.1:6379,password=..." -> ("127.0.0.1:6379", ",password=...")
    private static (string Host, string Options) SplitRedis(string connectionString)
    {
        var comma = connectionString.IndexOf(',');
        return comma < 0 ? (connectionString, "") : (connectionString[..comma], connectionString[comma..]);
    }

    public async ValueTask DisposeAsync()
    {
        await Extra.DisposeAsync();
        await DatabaseProxy.DisposeAsync();
        await RedisProxy.DisposeAsync();
        await Resources.DisposeAsync();
        await _logs.DisposeAsync();
        await _local.DisposeAsync();
    }
}
