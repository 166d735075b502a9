using System.Diagnostics;
using System.Reflection;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Evently.AppHost.Infrastructure;
using Microsoft.Extensions.Configuration.UserSecrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Evently.Tests.Unit;

// Containers mode keeps MySQL's data in a named volume, which remembers the password of the first run.
// The model is only built, never started: there is no container runtime here.
// In the app's collection, after its start: on a first run (CI's empty home) that start writes the generated
// secrets to the same user-secrets file these tests empty and read back, and running beside it they raced.
[Collection(AppCollection.Name)]
public sealed class ContainersModeTests
{
    // The model is all these tests look at; its logs would only be the failed start described in BuildAsync.
    private static readonly string[] ContainersMode = ["Evently:Infrastructure=containers", "Logging:LogLevel:Default=None"];

    [Theory]
    [InlineData("mysql-password")]
    [InlineData("mysql-root-password")]
    [InlineData("jwt-signing-key")]
    public async Task A_generated_secret_is_the_same_at_the_next_start(string parameter)
    {
        var key = $"Parameters:{parameter}";
        var before = AppHostUserSecrets.Get(key);
        // Start from a store without the value, as on the first run on a machine; put back what was there after.
        AppHostUserSecrets.Set(key, null);
        try
        {
            var first = await ResolveAsync(parameter);
            var second = await ResolveAsync(parameter);

            Assert.Equal(first, second);
            Assert.Equal(first, AppHostUserSecrets.Get(key));
        }
        finally
        {
            AppHostUserSecrets.Set(key, before);
        }
    }

    [Fact]
    public async Task Fresh_start_removes_the_named_volumes_through_the_container_runtime()
    {
        await using var app = await BuildAsync(ContainersMode);
        var commands = new List<string>();

        var removed = FreshStart.RemoveVolumes(app.Services.GetRequiredService<DistributedApplicationModel>().Resources,
            "podman", (command, arguments) => commands.Add($"{command} {string.Join(' ', arguments)}"));

        Assert.Equal(["evently-mysql-data", "evently-redis-data"], removed);
        Assert.Equal(["podman volume rm -f evently-mysql-data evently-redis-data"], commands);
    }

    [Fact, SupportedOSPlatform("linux")]
    public async Task The_fresh_argument_in_containers_mode_removes_the_volumes()
    {
        // A stand-in for docker that writes down how it was called.
        var dir = Directory.CreateTempSubdirectory("evently-fake-runtime").FullName;
        try
        {
            var runtime = Path.Combine(dir, "docker");
            var calls = Path.Combine(dir, "calls");
            await File.WriteAllTextAsync(runtime, $"#!/bin/sh\necho \"$*\" >> '{calls}'\n");
            File.SetUnixFileMode(runtime, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            await using var app = await BuildAsync([.. ContainersMode, $"ASPIRE_CONTAINER_RUNTIME={runtime}", FreshStart.Argument]);

            Assert.Equal(["volume rm -f evently-mysql-data evently-redis-data"], await File.ReadAllLinesAsync(calls));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_services_log_in_to_MySQL_as_the_apps_account_and_Redis_keeps_its_data_on_a_volume()
    {
        await using var app = await BuildAsync(ContainersMode);
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();

        var mysql = model.Resources.OfType<MySqlContainerResource>().Single();
        Assert.Contains($"User ID={MySqlServerResource.UserName};Password={{{mysql.Password.Name}.value}}", mysql.ConnectionStringExpression.ValueExpression);
        Assert.Equal(["evently"], mysql.Databases);
        var redis = model.Resources.OfType<RedisResource>().Single();
        Assert.Contains(redis.Annotations.OfType<ContainerMountAnnotation>(),
            mount => (mount.Source, mount.Target, mount.Type) == ("evently-redis-data", "/data", ContainerMountType.Volume));
    }

    [Theory, SupportedOSPlatform("linux")]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_MySQL_container_brings_an_existing_volume_to_the_apps_accounts_with_the_passwords_quoted_for_SQL(bool existingVolume)
    {
        // The start script, run by sh against a stand-in for the image's entrypoint that shows what it was given.
        var dir = Directory.CreateTempSubdirectory("evently-mysql-start").FullName;
        try
        {
            var dataDir = Directory.CreateDirectory(Path.Combine(dir, "data")).FullName;
            if (existingVolume)
            {
                Directory.CreateDirectory(Path.Combine(dataDir, "mysql"));
            }
            var bin = Directory.CreateDirectory(Path.Combine(dir, "bin")).FullName;
            Executable(Path.Combine(bin, "docker-entrypoint.sh"),
                "#!/bin/sh\necho \"$*\"\nfor a; do case \"$a\" in --init-file=*) cat \"${a#--init-file=}\";; esac; done\n");
            Executable(Path.Combine(bin, "chown"), "#!/bin/sh\n");
            var script = MySqlContainerResource.StartScript(["evently"])
                .Replace(MySqlContainerResource.DataDirectory, dataDir)
                .Replace("/tmp/evently-accounts.sql", Path.Combine(dir, "accounts.sql"));
            var start = new ProcessStartInfo("sh", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}";
            start.Environment["MYSQL_ROOT_PASSWORD"] = "r'oo\\t";
            start.Environment["MYSQL_PASSWORD"] = "a$b\"c`d'e";

            using var sh = Process.Start(start)!;
            var output = (await sh.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            await sh.WaitForExitAsync();

            Assert.True(sh.ExitCode == 0, await sh.StandardError.ReadToEndAsync());
            if (!existingVolume)
            {
                // The image makes the accounts from its environment; the server cannot run account statements then.
                Assert.Equal(["mysqld"], output);
                return;
            }
            Assert.Equal(
            [
                $"mysqld --init-file={Path.Combine(dir, "accounts.sql")}",
                "DROP USER IF EXISTS 'root'@'%';",
                "ALTER USER IF EXISTS 'root'@'localhost' IDENTIFIED BY 'r''oo\\\\t';",
                "CREATE USER IF NOT EXISTS 'evently'@'%' IDENTIFIED BY 'a$b\"c`d''e';",
                "ALTER USER 'evently'@'%' IDENTIFIED BY 'a$b\"c`d''e';",
                "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'evently'@'%';",
                "GRANT ALL PRIVILEGES ON `evently`.* TO 'evently'@'%';"
            ], output);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "accounts.sql")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SupportedOSPlatform("linux")]
    private static void Executable(string path, string text)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static async Task<string?> ResolveAsync(string parameter)
    {
        await using var app = await BuildAsync(ContainersMode);
        var resource = app.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ParameterResource>().Single(p => p.Name == parameter);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await resource.GetValueAsync(timeout.Token);
    }

    private static async Task<DistributedApplication> BuildAsync(string[] args)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Evently_AppHost>(args);
        // On disposal the AppHost's own Run() gets the app and fails to start it (no DCP in a built-only
        // app); without this it then waits the default 30 s for a shutdown with nothing to shut down.
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(1));
        return await builder.BuildAsync();
    }
}

/// <summary>The AppHost's user secrets file, where Aspire persists generated parameter values.</summary>
internal static class AppHostUserSecrets
{
    private static readonly string FilePath = PathHelper.GetSecretsPathFromSecretsId(
        typeof(FreshStart).Assembly.GetCustomAttribute<UserSecretsIdAttribute>()!.UserSecretsId);

    public static string? Get(string key) => Read()?[key]?.GetValue<string>();

    /// <param name="value">null removes the key.</param>
    public static void Set(string key, string? value)
    {
        var secrets = Read();
        if (secrets is null && value is null)
        {
            return;
        }
        secrets ??= [];
        if (value is null)
        {
            secrets.Remove(key);
        }
        else
        {
            secrets[key] = value;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        File.WriteAllText(FilePath, secrets.ToJsonString(new() { WriteIndented = true }));
    }

    private static JsonObject? Read() =>
        File.Exists(FilePath) ? JsonNode.Parse(File.ReadAllText(FilePath))?.AsObject() : null;
}
