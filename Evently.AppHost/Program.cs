using Microsoft.Extensions.Configuration;
using Evently.AppHost.Infrastructure;

// '--fresh' starts over with empty MySQL and Redis data, in either infrastructure mode.
var fresh = args.Contains(FreshStart.Argument);
var builder = DistributedApplication.CreateBuilder(args.Where(arg => arg != FreshStart.Argument).ToArray());

var infrastructure = InfrastructureModeResolver.Resolve(builder);
fresh &= builder.ExecutionContext.IsRunMode;
if (fresh && infrastructure == InfrastructureMode.Processes)
{
    // Before the servers are added: adding MariaDB initialises an empty data dir.
    LocalProcesses.WipeDataDirectories(builder);
}

IResourceBuilder<IResourceWithConnectionString> mysql, redis, smtp;
try
{
    mysql = builder.AddMySql("mysql", infrastructure);
    redis = builder.AddEventlyRedis("redis", infrastructure);
    smtp = builder.AddSmtp4dev("smtp", infrastructure);
}
catch (MissingPrerequisiteException missing)
{
    // One line that says what to install, rather than a stack trace.
    Console.Error.WriteLine(missing.Message);
    Environment.Exit(1);
    return;
}
var evently = mysql.AddDatabase("evently");

// Local runs get documented defaults; a published deployment must supply them.
var adminEmail = builder.AddParameterWithLocalDefault("admin-email", "admin@evently.local");
var adminPassword = builder.AddParameterWithLocalDefault("admin-password", "evently-admin-dev", secret: true);
// Kept in the AppHost's user secrets once generated, so tokens outlive a restart of the app.
var jwtSigningKey = builder.AddParameter("jwt-signing-key",
    new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true);

// Tells EF Core which SQL dialect to speak without asking the server at every start.
var serverVersion = infrastructure == InfrastructureMode.Processes ? "10.11.0-mariadb" : "8.4.0-mysql";

var migrations = builder.AddProject<Projects.Evently_MigrationService>("migrations")
    .WithReference(evently)
    .WithEnvironment("Evently__Database__ServerVersion", serverVersion)
    .WaitFor(mysql)
    .WithEnvironment("Evently__Admin__Email", adminEmail)
    .WithEnvironment("Evently__Admin__Password", adminPassword)
    .WithEnvironment("Evently__SeedDemoData", builder.Configuration["Evently:SeedDemoData"] ?? "true");

var api = builder.AddProject<Projects.Evently_ApiService>("api")
    .WithReference(evently)
    .WithEnvironment("Evently__Database__ServerVersion", serverVersion)
    .WithReference(redis)
    .WithReference(smtp)
    .WithEnvironment("Evently__Jwt__SigningKey", jwtSigningKey)
    .WaitFor(redis)
    .WaitForCompletion(migrations)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithRuntimeTuning()
    .WithReplicas(Replicas("Api"));

var worker = builder.AddProject<Projects.Evently_Worker>("worker")
    .WithReference(evently)
    .WithEnvironment("Evently__Database__ServerVersion", serverVersion)
    .WithReference(redis)
    .WithReference(smtp)
    .WaitFor(redis)
    .WaitFor(smtp)
    .WaitForCompletion(migrations)
    .WithHttpHealthCheck("/health")
    .WithRuntimeTuning()
    .WithReplicas(Replicas("Worker"));

// Azure Container Apps' ingress reaches the API from the environment's private ranges: believe its
// X-Forwarded-For, so rate limits see the client. Evently:Api:ForwardedHeaders:* names other proxies instead.
if (builder.ExecutionContext.IsPublishMode && !builder.Configuration.GetSection("Evently:Api:ForwardedHeaders").Exists())
{
    string[] containerAppsNetworks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];
    for (var i = 0; i < containerAppsNetworks.Length; i++)
    {
        api.WithEnvironment($"Evently__ForwardedHeaders__KnownNetworks__{i}", containerAppsNetworks[i]);
    }
}

// Settings under Evently:Api and Evently:Worker reach that service as Evently:* (the tests and the benchmark relax
// rate limits this way); the waitlist's (its offer window) reach both, as both make offers.
foreach (var (section, prefix, services) in new[]
{
    ("Evently:Api", "Evently", new[] { api }), ("Evently:Worker", "Evently", [worker]), ("Evently:Waitlist", "Evently:Waitlist", [api, worker])
})
{
    foreach (var (key, value) in builder.Configuration.GetSection(section).AsEnumerable(true))
    {
        foreach (var service in services.Where(_ => value is not null))
        {
            service.WithEnvironment($"{prefix}:{key}".Replace(":", "__"), value!);
        }
    }
}

if (fresh && infrastructure == InfrastructureMode.Containers)
{
    // After the resources are added: the volumes to remove are the ones they declare.
    try
    {
        FreshStart.RemoveVolumes(builder.Resources, ContainerRuntime.Resolve(builder.Configuration), LocalProcesses.Run);
    }
    catch (DistributedApplicationException failed)
    {
        Console.Error.WriteLine($"--fresh could not remove the data volumes: {failed.Message}");
        Environment.Exit(1);
        return;
    }
}

builder.Build().Run();

// Evently:Replicas:Api and Evently:Replicas:Worker: instances behind the same endpoint (default 1). Rate limits,
// idempotency, the outbox and the booking queue's consumers are shared through MySQL and Redis.
int Replicas(string service) => Math.Max(1, builder.Configuration.GetValue($"Evently:Replicas:{service}", 1));
