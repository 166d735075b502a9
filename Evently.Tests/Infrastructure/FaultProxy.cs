using Aspire.Hosting;
using Aspire.Hosting.Testing;
using System.Net.Sockets;
using System.Text;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// A TCP proxy in front of MariaDB or Redis that can fail the way networks and servers do: hang (bytes stop
/// flowing both ways, connections stay open, as with a frozen server or a partition) or break (every
/// connection cut and new ones refused, as with a killed server), then come back. It also counts the
/// statements sent through it that contain a marker.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private TaskCompletionSource _flowing = Flowing();
    private volatile bool _broken;
    private volatile string[] _markers = [];
    private System.Collections.Concurrent.ConcurrentDictionary<string, int> _markerCounts = new();
    private volatile string? _holdMarker;
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FaultProxy(string targetHost, int targetPort)
    {
        (_targetHost, _targetPort) = (targetHost, targetPort);
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>A proxy in front of a MySQL/MariaDB server, and the connection string that goes through it.</summary>
    public static (FaultProxy Proxy, string ConnectionString) ForDatabase(string databaseConnectionString)
    {
        var database = new MySqlConnector.MySqlConnectionStringBuilder(databaseConnectionString);
        var proxy = new FaultProxy(database.Server, (int)database.Port);
        database.Server = "127.0.0.1";
        database.Port = (uint)proxy.Port;
        return (proxy, database.ConnectionString);
    }

    /// <summary>A proxy in front of a Redis, and the connection string that goes through it.</summary>
    public static (FaultProxy Proxy, string ConnectionString) ForRedis(string redisConnectionString)
    {
        var options = StackExchange.Redis.ConfigurationOptions.Parse(redisConnectionString);
        var (host, port) = options.EndPoints.Single() switch
        {
            System.Net.DnsEndPoint dns => (dns.Host, dns.Port),
            System.Net.IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            var other => throw new NotSupportedException(other.ToString())
        };
        var proxy = new FaultProxy(host, port);
        options.EndPoints.Clear();
        options.EndPoints.Add("127.0.0.1", proxy.Port);
        return (proxy, options.ToString(includePassword: true));
    }

    /// <summary>Bytes stop flowing; connections stay open and new ones are accepted but get no answer.</summary>
    public void Hang() => Interlocked.Exchange(ref _flowing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Every connection is cut and new ones are refused.</summary>
    public void Break()
    {
        _broken = true;
        lock (_open)
        {
            _open.ForEach(c => c.Dispose());
            _open.Clear();
        }
    }

    /// <summary>Back to normal: held bytes flow again, new connections reach the server.</summary>
    public void Restore()
    {
        _broken = false;
        Volatile.Read(ref _flowing).TrySetResult();
    }

    /// <summary>From now on, counts the packets sent to the server that contain each of <paramref name="markers"/>.</summary>
    public void Count(params string[] markers)
    {
        _markers = [];
        Volatile.Write(ref _markerCounts, new());
        _markers = markers;
    }

    /// <summary>The packets that contained the (first) marker.</summary>
    public int Counted => CountedOf(_markers.FirstOrDefault() ?? "");

    public int CountedOf(string marker) => Volatile.Read(ref _markerCounts).GetValueOrDefault(marker);

    /// <summary>
    /// Hangs (see <see cref="Hang"/>) at the first packet to the server that contains <paramref name="marker"/>, before
    /// that packet is delivered: the client has sent it and waits for the answer. <see cref="Held"/> completes then;
    /// <see cref="Restore"/> delivers it.
    /// </summary>
    public void HoldAt(string marker) => _holdMarker = marker;

    public Task Held => _held.Task;

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            if (_broken)
            {
                client.Client.Close(0);
                continue;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var server = new TcpClient();
        lock (_open)
        {
            _open.Add(client);
            _open.Add(server);
        }
        try
        {
            await Volatile.Read(ref _flowing).Task.WaitAsync(_stop.Token);
            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            await Task.WhenAny(PumpAsync(client.GetStream(), server.GetStream(), countMarker: true),
                PumpAsync(server.GetStream(), client.GetStream(), countMarker: false));
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool countMarker)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            if (countMarker && _holdMarker is { } hold && Encoding.UTF8.GetString(buffer, 0, read).Contains(hold, StringComparison.Ordinal))
            {
                _holdMarker = null;
                Hang();
                _held.TrySetResult();
            }
            await Volatile.Read(ref _flowing).Task.WaitAsync(_stop.Token);
            if (countMarker && _markers is { Length: > 0 } markers)
            {
                var text = Encoding.UTF8.GetString(buffer, 0, read);
                var counts = Volatile.Read(ref _markerCounts);
                foreach (var marker in markers.Where(m => text.Contains(m, StringComparison.Ordinal)))
                {
                    counts.AddOrUpdate(marker, 1, (_, n) => n + 1);
                }
            }
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Break();
        _stop.Dispose();
    }
}
