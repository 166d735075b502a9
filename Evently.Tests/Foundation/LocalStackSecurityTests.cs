using System.Collections;
using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Evently.AppHost.Infrastructure;
using MySqlConnector;
using StackExchange.Redis;

namespace Evently.Tests.Foundation;

// The local MariaDB and Redis are reachable by every user of the machine over 127.0.0.1, and their files
// and command lines are on that machine too: what they accept and what they leave lying around.
[Collection(AppCollection.Name), SupportedOSPlatform("linux")]
public sealed class LocalStackSecurityTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task MariaDB_root_is_refused_over_TCP_without_a_password()
    {
        var server = new MySqlConnectionStringBuilder((await fixture.App.GetConnectionStringAsync("mysql"))!);

        await MariaDb.AssertRootRefusedAsync(server.Port);
    }

    [Fact]
    public async Task The_app_account_has_privileges_on_its_own_database_only()
    {
        await using var connection = new MySqlConnection((await fixture.App.GetConnectionStringAsync("mysql"))!);
        await connection.OpenAsync();

        await MariaDb.AssertOwnDatabaseOnlyAsync(connection);
    }

    [Fact]
    public async Task No_file_in_the_MariaDB_data_dir_holds_the_app_password()
    {
        var password = new MySqlConnectionStringBuilder((await fixture.App.GetConnectionStringAsync("mysql"))!).Password;
        var dataDir = Path.Combine(fixture.DataDirectory, "mysql");

        Assert.False(File.Exists(Path.Combine(dataDir, "evently-init.sql")), "the init file is deleted once the server is up");
        AssertNoFileContains(dataDir, password);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDir));
    }

    [Fact]
    public async Task The_redis_password_is_neither_on_its_command_line_nor_left_on_disk()
    {
        var password = ConfigurationOptions.Parse((await fixture.App.GetConnectionStringAsync("redis"))!).Password!;
        var redis = await fixture.App.ResourceNotifications.WaitForResourceAsync(
            "redis", e => e.Snapshot.State?.Text == KnownResourceStates.Running);

        // What the orchestrator started it with (redis-server later overwrites its /proc cmdline with a title).
        Assert.DoesNotContain(password, string.Join(' ', Strings(Property(redis, "executable.args"))));
        var pid = Convert.ToInt32(Property(redis, "executable.pid"));
        Assert.DoesNotContain(password, (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Replace('\0', ' '));
        AssertNoFileContains(Path.Combine(fixture.DataDirectory, "redis"), password);
    }

    [Fact]
    public async Task The_mail_server_listens_on_loopback_only()
    {
        var smtp = await fixture.App.ResourceNotifications.WaitForResourceAsync(
            "smtp", e => e.Snapshot.State?.Text == KnownResourceStates.Running);
        var pid = Convert.ToInt32(Property(smtp, "executable.pid"));

        var listening = ListeningAddresses(pid);

        // SMTP, IMAP, POP3 and the web page.
        Assert.True(listening.Count >= 4, $"listening on {string.Join(", ", listening)}");
        Assert.All(listening, address => Assert.True(IPAddress.IsLoopback(address.Address), $"smtp4dev listens on {address}"));
    }

    // The TCP sockets a process listens on: its socket inodes, found in the kernel's tables of listening sockets.
    private static List<IPEndPoint> ListeningAddresses(int pid)
    {
        var inodes = Directory.EnumerateFiles($"/proc/{pid}/fd")
            .Select(fd => new FileInfo(fd).LinkTarget)
            .OfType<string>()
            .Where(target => target.StartsWith("socket:["))
            .Select(target => target["socket:[".Length..^1])
            .ToHashSet();
        return new[] { "/proc/net/tcp", "/proc/net/tcp6" }
            .SelectMany(table => File.ReadLines(table).Skip(1))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[3] == "0A" && inodes.Contains(fields[9])) // 0A: LISTEN
            .Select(fields => KernelEndPoint(fields[1]))
            .ToList();
    }

    // "0100007F:0019" is 127.0.0.1:25: the address as the kernel's 32-bit words in host (little-endian) order.
    private static IPEndPoint KernelEndPoint(string text)
    {
        var (address, port) = (text.Split(':')[0], Convert.ToInt32(text.Split(':')[1], 16));
        var bytes = Convert.FromHexString(address);
        for (var word = 0; word < bytes.Length; word += 4)
        {
            Array.Reverse(bytes, word, 4);
        }
        var ip = new IPAddress(bytes);
        return new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, port);
    }

    internal static void AssertNoFileContains(string directory, string secret)
    {
        var needle = Encoding.UTF8.GetBytes(secret);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(file => !file.EndsWith(".sock")))
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{file} holds the password");
        }
    }

    private static object? Property(ResourceEvent resource, string name) =>
        resource.Snapshot.Properties.Single(p => p.Name == name).Value;

    private static IEnumerable<string> Strings(object? value) =>
        value is IEnumerable items and not string ? items.Cast<object>().Select(item => $"{item}") : [$"{value}"];
}

// A data dir made by an earlier version of the AppHost: root without a password on 127.0.0.1, ::1 and the
// host name, and the app account with every privilege on the server. The next start must lock it down.
[SupportedOSPlatform("linux")]
public sealed class ExistingMariaDbDataDirTests : IAsyncLifetime
{
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), $"evently-old-{Guid.NewGuid():N}");
    private DistributedApplication? _app;

    [Fact]
    public async Task An_existing_data_dir_is_locked_down_at_the_next_start()
    {
        var dataDir = Path.Combine(_dataRoot, "mysql");
        await MariaDb.CreateOldStyleDataDirAsync(dataDir);

        _app = await StartMySqlOnlyAsync();

        var connectionString = (await _app.GetConnectionStringAsync("mysql"))!;
        await MariaDb.AssertRootRefusedAsync(new MySqlConnectionStringBuilder(connectionString).Port);
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await MariaDb.AssertOwnDatabaseOnlyAsync(connection);
        Assert.False(File.Exists(Path.Combine(dataDir, "evently-init.sql")), "the init file is deleted once the server is up");
        LocalStackSecurityTests.AssertNoFileContains(dataDir, new MySqlConnectionStringBuilder(connectionString).Password);
    }

    // The AppHost's MySQL resource alone: the rest of the app has nothing to add here.
    private async Task<DistributedApplication> StartMySqlOnlyAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Evently_AppHost>(
            ["Evently:Infrastructure=processes", $"Evently:DataDir={_dataRoot}", "Logging:LogLevel:Default=Warning",
             "Logging:LogLevel:Evently.AppHost.Resources.mysql=None"], timeout.Token);
        foreach (var resource in builder.Resources
            .Where(r => r is ProjectResource or ExecutableResource or ContainerResource && r.Name != "mysql").ToList())
        {
            builder.Resources.Remove(resource);
        }

        var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("mysql", timeout.Token);
        return app;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (Directory.Exists(_dataRoot))
        {
            Directory.Delete(_dataRoot, recursive: true);
        }
    }
}

internal static class MariaDb
{
    public static async Task AssertRootRefusedAsync(uint port)
    {
        var root = new MySqlConnectionStringBuilder { Server = "127.0.0.1", Port = port, UserID = "root", Password = "" };
        await using var connection = new MySqlConnection(root.ConnectionString);

        var refused = await Assert.ThrowsAsync<MySqlException>(() => connection.OpenAsync());
        Assert.Equal("28000", refused.SqlState); // access denied
    }

    public static async Task AssertOwnDatabaseOnlyAsync(MySqlConnection connection)
    {
        var grants = new List<string>();
        await using (var command = new MySqlCommand("SHOW GRANTS", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                grants.Add(reader.GetString(0));
            }
        }

        Assert.All(grants.Where(grant => grant.Contains(" ON *.* ")), grant => Assert.StartsWith("GRANT USAGE ON *.*", grant));
        Assert.Contains(grants, grant => grant.StartsWith("GRANT ALL PRIVILEGES ON `evently`.*"));
        await using var create = new MySqlCommand("CREATE DATABASE evently_other", connection);
        Assert.Equal("42000", (await Assert.ThrowsAsync<MySqlException>(() => create.ExecuteNonQueryAsync())).SqlState);
    }

    /// <summary>What the AppHost made before: root by 'normal' authentication, the app account granted everything.</summary>
    public static async Task CreateOldStyleDataDirAsync(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        LocalProcesses.Run(LocalProcesses.FindBinary("mariadb-install-db", "mariadb-server"),
            "--no-defaults", $"--datadir={dataDir}", "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db");

        var port = LocalProcesses.FreePort();
        var start = new ProcessStartInfo(LocalProcesses.FindBinary("mariadbd", "mariadb-server"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        foreach (var argument in new[] { "--no-defaults", $"--datadir={dataDir}", $"--port={port}", "--bind-address=127.0.0.1",
            $"--socket={Path.Combine(dataDir, "mysqld.sock")}", $"--pid-file={Path.Combine(dataDir, "mysqld.pid")}",
            "--user=root", "--skip-name-resolve" })
        {
            start.ArgumentList.Add(argument);
        }
        using var server = Process.Start(start)!;
        _ = server.StandardError.ReadToEndAsync();
        _ = server.StandardOutput.ReadToEndAsync();
        try
        {
            var root = new MySqlConnectionStringBuilder { Server = "127.0.0.1", Port = (uint)port, UserID = "root" };
            await using var connection = new MySqlConnection(root.ConnectionString);
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await connection.OpenAsync();
                    break;
                }
                catch (MySqlException) when (attempt < 100)
                {
                    await Task.Delay(200);
                }
            }
            await using var command = new MySqlCommand(
                "CREATE USER 'evently'@'%' IDENTIFIED BY 'an-old-password'; GRANT ALL PRIVILEGES ON *.* TO 'evently'@'%'; SHUTDOWN;",
                connection);
            await command.ExecuteNonQueryAsync();
            await server.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
    }
}
