using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Evently.Tests.Infrastructure;

/// <summary>What a <see cref="SmtpSink"/> does with a message once it has it all.</summary>
public enum SinkAnswer
{
    Accept,
    /// <summary>550: a refusal of that one mail.</summary>
    Refuse,
    /// <summary>Cuts the connection without an answer, as a server that dies.</summary>
    Drop,
    /// <summary>Never answers, as a server that hangs.</summary>
    Hang
}

/// <summary>
/// A minimal SMTP server of a test's own, on a free local port: it takes every message and answers each one as
/// the test says (by the number of the message, from 1), and keeps the Message-Ids of those it accepted.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<int, SinkAnswer> _answer;
    private int _messages;

    public SmtpSink(Func<int, SinkAnswer> answer)
    {
        _answer = answer;
        _listener.Start();
        _ = AcceptAsync();
    }

    public string ConnectionString => $"smtp://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public ConcurrentQueue<string> Accepted { get; } = new();

    /// <summary>Every message it was sent, whatever it answered.</summary>
    public int Received => Volatile.Read(ref _messages);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                _ = ServeAsync(await _listener.AcceptTcpClientAsync(_stop.Token));
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        try
        {
            await writer.WriteLineAsync("220 sink");
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = line.Split(' ')[0].ToUpperInvariant();
                if (verb == "QUIT")
                {
                    await writer.WriteLineAsync("221 bye");
                    return;
                }
                if (verb != "DATA")
                {
                    await writer.WriteLineAsync(verb is "EHLO" or "HELO" ? "250 sink" : "250 ok");
                    continue;
                }
                await writer.WriteLineAsync("354 go on");
                string? messageId = null;
                while (await reader.ReadLineAsync(_stop.Token) is { } data && data != ".")
                {
                    if (data.StartsWith("Message-Id:", StringComparison.OrdinalIgnoreCase))
                    {
                        messageId = data["Message-Id:".Length..].Trim().Trim('<', '>');
                    }
                }
                switch (_answer(Interlocked.Increment(ref _messages)))
                {
                    case SinkAnswer.Accept:
                        Accepted.Enqueue(messageId ?? "");
                        await writer.WriteLineAsync("250 queued");
                        break;
                    case SinkAnswer.Refuse:
                        await writer.WriteLineAsync("550 no such mailbox");
                        break;
                    case SinkAnswer.Drop:
                        client.Client.Close(0);
                        return;
                    case SinkAnswer.Hang:
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                        return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away, or the sink stops.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _stop.Dispose();
    }
}
