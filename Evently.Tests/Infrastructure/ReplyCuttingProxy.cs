using System.Net.Sockets;
using System.Text;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// A TCP proxy in front of the database that can lose a reply: the next statement sent that contains a
/// marker reaches the server, which runs it (and commits); its reply is swallowed and the connection
/// cut, as a network failure between COMMIT and its acknowledgement would.
/// </summary>
public sealed class ReplyCuttingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _cut = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _marker;

    public ReplyCuttingProxy(string targetHost, int targetPort)
    {
        (_targetHost, _targetPort) = (targetHost, targetPort);
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Completes once a reply was swallowed and its connection cut.</summary>
    public Task Cut => _cut.Task;

    /// <summary>
    /// The driver's COMMIT as it goes over the wire to MariaDB: the query command's byte, then the text (a MySQL server
    /// with query attributes gets two more bytes between them). The word alone also appears in every "read committed"
    /// transaction's start and in the "SET AUTOCOMMIT = 1" before an insert.
    /// </summary>
    public const string Commit = "\u0003commit";

    public void CutReplyToNext(string marker) => Volatile.Write(ref _marker, Encoding.UTF8.GetBytes(marker));

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
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
        var cutting = false;

        var toServer = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            // The end of the previous read, so that a marker split across two reads is still seen.
            var tail = Array.Empty<byte>();
            int read;
            while ((read = await client.GetStream().ReadAsync(buffer, _stop.Token)) > 0)
            {
                var seen = tail.Concat(buffer.Take(read)).ToArray();
                // Only a marker that ends in this read: the tail alone was forwarded already, perhaps before the marker was set.
                if (Volatile.Read(ref _marker) is { } marker && seen.AsSpan().LastIndexOf(marker) is var at && at >= 0 && at + marker.Length > tail.Length
                    && Interlocked.CompareExchange(ref _marker, null, marker) == marker)
                {
                    Volatile.Write(ref cutting, true);
                }
                tail = seen.TakeLast(64).ToArray();
                await server.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        });

        var toClient = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await server.GetStream().ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (!Volatile.Read(ref cutting))
                {
                    await client.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                    continue;
                }

                // Let the server finish the whole batch (the COMMIT included), then drop both sides unheard.
                // Told before the client can notice: its retry may otherwise answer before this thread runs again.
                await DrainAsync(server.GetStream(), buffer);
                _cut.TrySetResult();
                client.Client.Close();
                server.Client.Close();
                return;
            }
        });

        try
        {
            await Task.WhenAny(toServer, toClient);
        }
        catch (Exception)
        {
            // A closed side ends the relay.
        }
    }

    private async Task DrainAsync(NetworkStream stream, byte[] buffer)
    {
        while (true)
        {
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            quiet.CancelAfter(TimeSpan.FromMilliseconds(300));
            try
            {
                if (await stream.ReadAsync(buffer, quiet.Token) == 0)
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
