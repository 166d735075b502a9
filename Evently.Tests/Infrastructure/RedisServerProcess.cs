using System.Diagnostics;
using StackExchange.Redis;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// A redis-server of a test's own, on a free port with its data in a temp dir, that the test can kill with
/// SIGKILL and start again on the same data.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("evently-redis-").FullName;
    private readonly int _port = ServiceProcess.FreePort();
    private readonly string[] _persistence;
    private Process? _process;

    private RedisServerProcess(string appendOnly, string appendFsync) =>
        _persistence = ["--appendonly", appendOnly, "--appendfsync", appendFsync, "--save", ""];

    public string ConnectionString => $"127.0.0.1:{_port}";

    public static async Task<RedisServerProcess> StartAsync(string appendOnly, string appendFsync)
    {
        var server = new RedisServerProcess(appendOnly, appendFsync);
        await server.RunAsync();
        return server;
    }

    /// <summary>kill -9, then the same server on the same data, as after a crash.</summary>
    public async Task KillAndRestartAsync()
    {
        Kill();
        await RunAsync();
    }

    private async Task RunAsync()
    {
        _process = Process.Start(new ProcessStartInfo("redis-server",
            ["--port", _port.ToString(), "--bind", "127.0.0.1", "--dir", _directory, .. _persistence])
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
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Temp is cleaned eventually.
        }
        return ValueTask.CompletedTask;
    }
}
