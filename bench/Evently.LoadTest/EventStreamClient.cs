using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Evently.LoadTest;

/// <summary>
/// One server-sent-events stream read straight off a socket, with just enough HTTP/1.1 for the waiting room's
/// <c>GET /api/bookings/requests/{id}/events</c>: one request, a reply of chunks, its lines. The benchmark holds
/// 20,000 of them on the machine that runs the app; read through HttpClient (its content streams, a StreamReader,
/// a string per line) they took 35–47% of a core during an opening, CPU a buyer's browser spends on its own machine.
/// </summary>
internal sealed class EventStreamClient : IDisposable
{
    private readonly Socket _socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    // What was received and not yet read; a reply's lines are a few hundred bytes.
    private readonly byte[] _received = new byte[2048];
    private int _readFrom, _receivedTo;
    private byte[] _line = new byte[512];
    private int _chunkLeft;
    private bool _ended;

    /// <summary>Sends the GET and reads the reply's head; its status code.</summary>
    public async Task<int> OpenAsync(Uri api, string path, string token, string? lastEventId)
    {
        await _socket.ConnectAsync(api.Host, api.Port);
        var request = $"GET {path} HTTP/1.1\r\nHost: {api.Authority}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n"
            + (lastEventId is null ? "" : $"Last-Event-ID: {lastEventId}\r\n") + "\r\n";
        var bytes = Encoding.ASCII.GetBytes(request);
        for (var sent = 0; sent < bytes.Length;)
        {
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
        int headEnd;
        while ((headEnd = _received.AsSpan(0, _receivedTo).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (!await ReceiveAsync())
            {
                throw new IOException("The connection closed before the reply's head.");
            }
        }
        // "HTTP/1.1 200 OK": the code is the second word. Every reply of the endpoint is chunked (or has no body to read).
        var status = int.Parse(_received.AsSpan(9, 3), CultureInfo.InvariantCulture);
        _readFrom = headEnd + 4;
        return status;
    }

    /// <summary>The body's next line, without its end (valid until the next call); null when the reply ends.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync()
    {
        var length = 0;
        while (true)
        {
            if (_chunkLeft == 0 && !await NextChunkAsync())
            {
                return null;
            }
            while (_chunkLeft > 0 && _readFrom < _receivedTo)
            {
                var b = _received[_readFrom++];
                _chunkLeft--;
                if (b == (byte)'\n')
                {
                    return _line.AsMemory(0, length > 0 && _line[length - 1] == '\r' ? length - 1 : length);
                }
                if (length == _line.Length)
                {
                    Array.Resize(ref _line, _line.Length * 2);
                }
                _line[length++] = b;
            }
            if (_chunkLeft > 0 && !await ReceiveAsync())
            {
                return null;
            }
        }
    }

    // Reads a chunk's size line (after the previous chunk's CRLF); false at the last chunk or a closed connection.
    private async ValueTask<bool> NextChunkAsync()
    {
        while (!_ended)
        {
            var unread = _received.AsSpan(_readFrom, _receivedTo - _readFrom);
            var skip = unread.StartsWith("\r\n"u8) ? 2 : 0;
            var end = unread[skip..].IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var size = unread.Slice(skip, end);
                var extension = size.IndexOf((byte)';');
                _chunkLeft = int.Parse(extension < 0 ? size : size[..extension], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                _readFrom += skip + end + 2;
                _ended = _chunkLeft == 0;
                return !_ended;
            }
            if (!await ReceiveAsync())
            {
                _ended = true;
            }
        }
        return false;
    }

    private async ValueTask<bool> ReceiveAsync()
    {
        if (_readFrom > 0)
        {
            _received.AsSpan(_readFrom, _receivedTo - _readFrom).CopyTo(_received);
            _receivedTo -= _readFrom;
            _readFrom = 0;
        }
        if (_receivedTo == _received.Length)
        {
            throw new IOException("A chunk's size line is longer than the receive buffer.");
        }
        var received = await _socket.ReceiveAsync(_received.AsMemory(_receivedTo), SocketFlags.None);
        _receivedTo += received;
        return received > 0;
    }

    public void Dispose() => _socket.Dispose();
}
