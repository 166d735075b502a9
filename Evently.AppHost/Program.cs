using Microsoft.Extensions.Configuration;
using Evently.AppHost.Infrastructure;

// '--fresh' wipes the local MariaDB and Redis data dirs before starting.
var fresh = args.Contains("--fresh");
var builder = DistributedApplication.CreateBuilder(args.Where(arg => arg != "--fresh").ToArray());

var infrastructure = InfrastructureModeResolver.Resolve(builder);
if (fresh && infrastructure == InfrastructureMode.Processes)
{
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
var jwtSigningKey = builder.AddParameter("jwt-signing-key",
    new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true);

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
    .WithExternalHttpEndpoints();

var worker = builder.AddProject<Projects.Evently_Worker>("worker")
    .WithReference(evently)
    .WithEnvironment("Evently__Database__ServerVersion", serverVersion)
    .WithReference(redis)
    .WithReference(smtp)
    .WaitFor(redis)
    .WaitFor(smtp)
    .WaitForCompletion(migrations)
    .WithHttpHealthCheck("/health");

// Settings under Evently:Api and Evently:Worker reach that service as Evently:* (the tests and the benchmark
// relax rate limits and shorten the waitlist's offer window this way).
foreach (var (section, service) in new[] { ("Evently:Api", (IResourceBuilder<ProjectResource>)api), ("Evently:Worker", worker) })
{
    foreach (var (key, value) in builder.Configuration.GetSection(section).AsEnumerable(true))
    {
        if (value is not null)
        {
            service.WithEnvironment($"Evently__{key.Replace(":", "__")}", value);
        }
    }
}

builder.Build().Run();
