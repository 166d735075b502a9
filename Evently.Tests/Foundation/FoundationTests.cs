using System.Text.Json;
using System.Text.RegularExpressions;
using Evently.AppHost.Infrastructure;
using Evently.Domain.Auth;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Foundation;

[Collection(AppCollection.Name)]
public sealed class FoundationTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task Health_reports_healthy_with_database_and_redis()
    {
        var response = await fixture.Api.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await fixture.Api.GetAsync("/alive")).StatusCode);
    }

    [Fact]
    public async Task Services_export_traces_and_metrics_over_otlp()
    {
        // Traced: the tests run in Development, where every trace is sampled.
        (await fixture.Api.GetAsync("/api/events")).EnsureSuccessStatusCode();

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (fixture.TelemetryReceived is { TraceExports: 0 } or { MetricExports: 0 } && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        var received = fixture.TelemetryReceived;
        Assert.True(received.TraceExports > 0, "no trace export reached the OTLP endpoint");
        Assert.True(received.MetricExports > 0, "no metric export reached the OTLP endpoint");
    }

    [Fact]
    public async Task Migrations_created_the_first_admin()
    {
        await using var db = fixture.CreateDbContext();

        var admin = await db.Users.SingleAsync(u => u.NormalizedEmail == User.Normalize("admin@evently.local"));

        Assert.Equal(Roles.Admin, admin.Role);
        Assert.NotEqual("evently-admin-dev", admin.PasswordHash);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task OpenApi_document_and_Scalar_reference_are_served()
    {
        var document = await fixture.Api.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());

        var page = await fixture.Api.GetAsync("/api-docs/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<title>Evently API</title>", html);
        Assert.Contains("scalar", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Unknown_route_answers_problem_details()
    {
        var response = await fixture.Api.GetAsync("/api/no-such-thing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("title", out _));
    }

    [Fact]
    public async Task Running_the_migration_service_again_changes_nothing()
    {
        await using var db = fixture.CreateDbContext();
        var usersBefore = await db.Users.CountAsync();
        var eventsBefore = await db.Events.CountAsync();
        var migrationsBefore = (await db.Database.GetAppliedMigrationsAsync()).ToList();
        var adminBefore = await db.Users.AsNoTracking().SingleAsync(u => u.Role == Roles.Admin);

        var (exitCode, output) = await RunMigrationServiceAsync(TestApi.AdminEmail, TestApi.AdminPassword);

        Assert.True(exitCode == 0, output);
        Assert.Equal(usersBefore, await db.Users.CountAsync());
        Assert.Equal(eventsBefore, await db.Events.CountAsync());
        Assert.Equal(migrationsBefore, await db.Database.GetAppliedMigrationsAsync());
        var adminAfter = await db.Users.AsNoTracking().SingleAsync(u => u.Role == Roles.Admin);
        Assert.Equal((adminBefore.Id, adminBefore.Email, adminBefore.PasswordHash), (adminAfter.Id, adminAfter.Email, adminAfter.PasswordHash));
    }

    [Theory]
    [InlineData("admin@evently.local", "x", "Evently:Admin:Password")]
    [InlineData("admin@evently.local", "", "Evently:Admin:Password")]
    [InlineData("not-an-e-mail", "evently-admin-dev", "Evently:Admin:Email")]
    public async Task The_migration_service_refuses_a_weak_admin_password_or_a_bad_e_mail(string email, string password, string setting)
    {
        var (exitCode, output) = await RunMigrationServiceAsync(email, password);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(setting, output);
        Assert.DoesNotContain("   at ", output); // a sentence, not a stack trace
        await fixture.AdminAsync();
    }

    [Fact]
    public async Task A_new_admin_password_replaces_the_old_one()
    {
        const string newPassword = "a-new-admin-password";
        try
        {
            var (exitCode, output) = await RunMigrationServiceAsync(TestApi.AdminEmail, newPassword);

            Assert.True(exitCode == 0, output);
            Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(TestApi.AdminEmail, newPassword));
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginStatusAsync(TestApi.AdminEmail, TestApi.AdminPassword));
        }
        finally
        {
            await RestoreAdminAsync();
        }
    }

    [Fact]
    public async Task A_new_admin_e_mail_renames_the_seeded_admin()
    {
        var newEmail = TestApi.UniqueEmail("admin");
        try
        {
            var (exitCode, output) = await RunMigrationServiceAsync(newEmail, TestApi.AdminPassword);

            Assert.True(exitCode == 0, output);
            using var admin = await fixture.LoginAsync(newEmail, TestApi.AdminPassword);
            Assert.Equal(Roles.Admin, admin.User.Role);
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginStatusAsync(TestApi.AdminEmail, TestApi.AdminPassword));
            await using var db = fixture.CreateDbContext();
            Assert.Equal(1, await db.Users.CountAsync(u => u.Role == Roles.Admin));
        }
        finally
        {
            await RestoreAdminAsync();
        }
    }

    // Other tests log in as the documented admin: every test that changes it puts it back.
    private async Task RestoreAdminAsync()
    {
        var (exitCode, output) = await RunMigrationServiceAsync(TestApi.AdminEmail, TestApi.AdminPassword);
        Assert.True(exitCode == 0, output);
        Assert.Equal(HttpStatusCode.OK, await LoginStatusAsync(TestApi.AdminEmail, TestApi.AdminPassword));
    }

    private async Task<HttpStatusCode> LoginStatusAsync(string email, string password) =>
        (await fixture.Api.PostAsJsonAsync("/api/auth/login", new { email, password })).StatusCode;

    private Task<(int ExitCode, string Output)> RunMigrationServiceAsync(string adminEmail, string adminPassword) =>
        DotnetProject.RunAsync(new Projects.Evently_MigrationService().ProjectPath, [],
            new Dictionary<string, string>
            {
                ["ConnectionStrings__evently"] = fixture.DatabaseConnectionString,
                ["Evently__Database__ServerVersion"] = "10.11.0-mariadb",
                ["Evently__Admin__Email"] = adminEmail,
                ["Evently__Admin__Password"] = adminPassword,
                ["Evently__SeedDemoData"] = "false"
            });
}

public sealed partial class ManifestTests
{
    [Fact]
    public async Task Publish_manifest_has_containers_and_no_executables()
    {
        using var manifest = await PublishManifestAsync();

        var types = manifest.RootElement.GetProperty("resources").EnumerateObject()
            .ToDictionary(r => r.Name, r => r.Value.GetProperty("type").GetString());
        Assert.DoesNotContain(types.Values, type => type!.StartsWith("executable"));
        Assert.Equal("container.v0", types["mysql"]);
        Assert.Equal("container.v0", types["redis"]);
        Assert.Equal("container.v0", types["smtp"]);
        Assert.Equal("project.v0", types["api"]);
    }

    [Theory]
    [InlineData("api")]
    [InlineData("worker")]
    public async Task Published_services_keep_their_runtime_settings(string service)
    {
        using var manifest = await PublishManifestAsync();

        var environment = manifest.RootElement.GetProperty("resources").GetProperty(service).GetProperty("env");
        Assert.Equal("0x800000", environment.GetProperty("DOTNET_GCgen0size").GetString());
        Assert.Equal("65536", environment.GetProperty("MALLOC_MMAP_THRESHOLD_").GetString());
        Assert.Equal("0", environment.GetProperty("DOTNET_TC_CallCountingDelayMs").GetString());
    }

    [Fact]
    public async Task Publish_manifest_takes_every_secret_from_a_secret_parameter()
    {
        using var manifest = await PublishManifestAsync();
        var resources = manifest.RootElement.GetProperty("resources").EnumerateObject().ToList();
        var secretParameters = resources
            .Where(r => r.Value.GetProperty("type").GetString() == "parameter.v0"
                && r.Value.GetProperty("inputs").GetProperty("value").TryGetProperty("secret", out var secret) && secret.GetBoolean())
            .Select(r => r.Name)
            .ToHashSet();
        Assert.Superset(new HashSet<string> { "admin-password", "jwt-signing-key", "mysql-password", "mysql-root-password", "redis-password" },
            secretParameters);

        // Every value that carries a secret is made of references, and each secret reference is to a secret parameter.
        var secretValues = resources
            .SelectMany(r => Settings(r.Value).Select(setting => (Where: $"{r.Name}.{setting.Name}", setting.Name, setting.Value)))
            .Where(s => SecretName().IsMatch(s.Name) || SecretName().IsMatch(s.Value))
            .ToList();
        Assert.NotEmpty(secretValues);
        foreach (var (where, name, value) in secretValues)
        {
            var secretReferences = Reference().Matches(value).Select(m => m.Groups["resource"].Value)
                .Where(resource => resource.Contains("password") || resource.Contains("key"))
                .ToList();
            Assert.True(secretReferences.Count > 0, $"{where} = {value} holds no reference to a parameter");
            Assert.All(secretReferences, resource => Assert.True(secretParameters.Contains(resource.Replace("-uri-encoded", "")),
                $"{where} takes {resource}, which is not a secret parameter"));
            Assert.DoesNotMatch(LiteralSecret(), Reference().Replace(value, ""));
        }

        // The local defaults are for development only and never published.
        var text = manifest.RootElement.GetRawText();
        Assert.DoesNotContain(TestApi.AdminPassword, text);
        Assert.DoesNotContain("admin@evently.local", text);
    }

    [Fact]
    public async Task Published_API_trusts_forwarded_headers_from_the_Container_Apps_ingress_unless_told_otherwise()
    {
        using (var manifest = await PublishManifestAsync())
        {
            var env = ApiEnvironment(manifest);
            Assert.Equal(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
                Enumerable.Range(0, 4).Select(i => env[$"Evently__ForwardedHeaders__KnownNetworks__{i}"]));
        }

        using (var manifest = await PublishManifestAsync("Evently:Api:ForwardedHeaders:KnownProxies:0=10.1.2.3"))
        {
            var env = ApiEnvironment(manifest);
            Assert.Equal("10.1.2.3", env["Evently__ForwardedHeaders__KnownProxies__0"]);
            Assert.DoesNotContain(env.Keys, key => key.Contains("KnownNetworks"));
        }
    }

    [Fact]
    public async Task Published_MySQL_gives_the_services_an_account_on_their_database_and_root_only_inside_its_container()
    {
        using var manifest = await PublishManifestAsync();
        var resources = manifest.RootElement.GetProperty("resources");
        var mysql = resources.GetProperty("mysql");
        var env = EnvironmentOf(mysql);

        Assert.Equal("Server={mysql.bindings.tcp.host};Port={mysql.bindings.tcp.port};User ID=evently;Password={mysql-password.value}",
            mysql.GetProperty("connectionString").GetString());
        // A new volume: the image makes the account, on the database, and root on localhost only.
        Assert.Equal(("evently", "{mysql-password.value}", "evently"), (env["MYSQL_USER"], env["MYSQL_PASSWORD"], env["MYSQL_DATABASE"]));
        Assert.Equal(("{mysql-root-password.value}", "localhost"), (env["MYSQL_ROOT_PASSWORD"], env["MYSQL_ROOT_HOST"]));
        // A volume that exists: the start script brings it to the same rules (its SQL is tested in ContainersModeTests).
        Assert.Equal("/bin/sh", mysql.GetProperty("entrypoint").GetString());
        Assert.Equal(["-c", MySqlContainerResource.StartScript(["evently"])], mysql.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        // No service is given root's password.
        Assert.DoesNotContain(resources.EnumerateObject().Where(r => r.Name != "mysql").SelectMany(r => Settings(r.Value)),
            setting => setting.Value.Contains("mysql-root-password"));
    }

    [Fact]
    public async Task Published_Redis_keeps_an_append_only_file_on_a_volume_and_a_memory_limit_that_evicts_only_what_expires()
    {
        using var manifest = await PublishManifestAsync();
        var redis = manifest.RootElement.GetProperty("resources").GetProperty("redis");

        var command = redis.GetProperty("args").EnumerateArray().Select(a => a.GetString()).Last()!;
        Assert.StartsWith("redis-server --requirepass $REDIS_PASSWORD ", command);
        Assert.Contains("--dir /data --appendonly yes --appendfsync everysec --maxmemory 256mb --maxmemory-policy volatile-lru", command);
        var volume = redis.GetProperty("volumes").EnumerateArray().Single();
        Assert.Equal(("evently-redis-data", "/data", false),
            (volume.GetProperty("name").GetString(), volume.GetProperty("target").GetString(), volume.GetProperty("readOnly").GetBoolean()));
    }

    private static Dictionary<string, string> EnvironmentOf(JsonElement resource) =>
        resource.GetProperty("env").EnumerateObject().ToDictionary(variable => variable.Name, variable => variable.Value.ToString());

    private static Dictionary<string, string> ApiEnvironment(JsonDocument manifest) =>
        manifest.RootElement.GetProperty("resources").GetProperty("api").GetProperty("env").EnumerateObject()
            .ToDictionary(variable => variable.Name, variable => variable.Value.ToString());

    private static IEnumerable<(string Name, string Value)> Settings(JsonElement resource)
    {
        if (resource.TryGetProperty("connectionString", out var connectionString))
        {
            yield return ("connectionString", connectionString.GetString()!);
        }
        if (resource.TryGetProperty("env", out var env))
        {
            foreach (var variable in env.EnumerateObject())
            {
                yield return (variable.Name, variable.Value.ToString());
            }
        }
    }

    [GeneratedRegex("password|secret|signingkey|apikey|token", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"\{(?<resource>[a-z0-9-]+)\.[a-z0-9.]+\}")]
    private static partial Regex Reference();

    // What is left once the references are gone: 'password=' followed by anything is a literal secret.
    [GeneratedRegex(@"(password|key)=[^;,{}\s]", RegexOptions.IgnoreCase)]
    private static partial Regex LiteralSecret();

    /// <param name="settings">More AppHost configuration, as <c>Key=Value</c>.</param>
    private static async Task<JsonDocument> PublishManifestAsync(params string[] settings)
    {
        var outputPath = Path.Combine(Path.GetTempPath(), $"evently-manifest-{Guid.NewGuid():N}", "aspire-manifest.json");
        try
        {
            var (exitCode, output) = await DotnetProject.RunAsync(Projects.Evently_AppHost.ProjectPath,
                ["--publisher", "manifest", "--output-path", outputPath, .. settings]);
            Assert.True(exitCode == 0, output);
            return JsonDocument.Parse(await File.ReadAllTextAsync(outputPath));
        }
        finally
        {
            if (Directory.Exists(Path.GetDirectoryName(outputPath)))
            {
                Directory.Delete(Path.GetDirectoryName(outputPath)!, recursive: true);
            }
        }
    }
}
