using System.Diagnostics;
using Evently.AppHost.Infrastructure;
using StackExchange.Redis;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// A redis-server of a test's own, on a free port with its data in a temp dir, that the test can kill with
/// SIGKILL and start again on the same data, or bring to answer errors (<see cref="CommandAsync"/>).
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly int _port = LocalProcesses.FreePort();
    private readonly string[] _settings;
    private Process? _process;

    private RedisServerProcess(string[] settings) => _settings = settings;

    public string ConnectionString => $"127.0.0.1:{_port}";

    /// <summary>Where it keeps its files, and its working directory.</summary>
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("evently-redis-").FullName;

    /// <param name="settings">More redis-server settings, such as the app's own (<c>--maxmemory-policy</c> ...).</param>
    public static async Task<RedisServerProcess> StartAsync(string appendOnly, string appendFsync, params string[] settings)
    {
        var server = Reserve(appendOnly, appendFsync, settings);
        await server.RunAsync();
        return server;
    }

    /// <summary>A port and a data dir, with no server on them until <see cref="RunAsync"/>: Redis down from the start.</summary>
    public static RedisServerProcess Reserve(string appendOnly, string appendFsync, params string[] settings) =>
        new(["--appendonly", appendOnly, "--appendfsync", appendFsync, "--save", "", .. settings]);

    /// <summary>kill -9, then the same server on the same data, as after a crash.</summary>
    public async Task KillAndRestartAsync()
    {
        Kill();
        await RunAsync();
    }

    /// <summary>Runs a command as an administrator (CONFIG SET, REPLICAOF, BGSAVE ...).</summary>
    public async Task<RedisResult> CommandAsync(string command, params object[] args)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        return await connection.GetServers().Single().ExecuteAsync(command, args);
    }

    /// <summary>
    /// Runs a command through redis-cli, which sends it alone: for a server that refuses a client's handshake (one
    /// that cannot persist answers MISCONF even to PING).
    /// </summary>
    public async Task CliAsync(params string[] command)
    {
        var output = await CliReplyAsync(command);
        if (output.StartsWith("ERR") || output.StartsWith("MISCONF"))
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', command)}: {output}");
        }
    }

    /// <summary>The server's reply to a command sent alone through redis-cli, an error reply included.</summary>
    public async Task<string> CliReplyAsync(params string[] command)
    {
        using var cli = Process.Start(new ProcessStartInfo("redis-cli", ["-p", _port.ToString(), .. command]) { RedirectStandardOutput = true })!;
        var output = await cli.StandardOutput.ReadToEndAsync();
        await cli.WaitForExitAsync();
        return cli.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"redis-cli {string.Join(' ', command)} exited {cli.ExitCode}");
    }

    public async Task RunAsync()
    {
        _process = Process.Start(new ProcessStartInfo("redis-server",
            ["--port", _port.ToString(), "--bind", "127.0.0.1", "--dir", DataDirectory, .. _settings])
        {
            RedirectStandardOutput = true
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
                // Up once it answers, and done loading its append-only file once PING does not say LOADING.
                await connection.GetDatabase().PingAsync();
                return true;
            }
            catch (RedisException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(15), "redis-server's start");
    }

    private void Kill()
    {
        if (_process is { HasExited: false })
        {
            Process.Start("kill", ["-9", _process.Id.ToString()])!.WaitForExit();
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Temp is cleaned eventually.
        }
        return ValueTask.CompletedTask;
    }
}
