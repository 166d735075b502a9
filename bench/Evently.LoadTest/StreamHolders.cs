using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Evently.LoadTest;

/// <summary>
/// A child process of this benchmark that holds buyers' request streams (<c>GET /api/bookings/requests/{id}/events</c>)
/// open on one API replica until each one's answer. Children, because a process may hold at most 20,000 open files
/// here (a hard limit an unprivileged run cannot raise): 10,000 streams per child keep each well below it.
/// The parent writes "requestId token" lines; the child writes "open id", "answer id status unixMs", "resumed id" (a
/// stream that ended without its answer, reconnected with Last-Event-ID as a browser's EventSource does) or "error id why".
/// </summary>
internal sealed class StreamHolder : IAsyncDisposable
{
    public const string ChildArgument = "--hold-streams";

    private readonly Process _process;
    private int _opened;
    private int _reconnects;

    private StreamHolder(Process process) => _process = process;

    public int Opened => Volatile.Read(ref _opened);
    public int Reconnects => Volatile.Read(ref _reconnects);
    public ConcurrentDictionary<long, (string Status, long AtUnixMs)> Answers { get; } = new();
    public ConcurrentBag<string> Errors { get; } = [];

    public static StreamHolder Start(Uri api)
    {
        var process = Process.Start(new ProcessStartInfo("dotnet", [typeof(StreamHolder).Assembly.Location, ChildArgument, api.ToString()])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true
        })!;
        var holder = new StreamHolder(process);
        process.OutputDataReceived += (_, line) => holder.OnLine(line.Data);
        process.BeginOutputReadLine();
        return holder;
    }

    public async Task OpenAsync(IEnumerable<(long RequestId, string Token)> streams)
    {
        foreach (var (requestId, token) in streams)
        {
            await _process.StandardInput.WriteLineAsync($"{requestId} {token}");
        }
        await _process.StandardInput.FlushAsync();
    }

    private void OnLine(string? line)
    {
        var parts = line?.Split(' ', 4);
        switch (parts)
        {
            case ["open", _]:
                Interlocked.Increment(ref _opened);
                break;
            case ["answer", var id, var status, var at]:
                Answers[long.Parse(id)] = (status, long.Parse(at));
                break;
            case ["resumed", _]:
                Interlocked.Increment(ref _reconnects);
                break;
            case ["error", ..]:
                Errors.Add(line!);
                break;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The child: opens a stream per line read, at most 100 opening at once, and reports as above.</summary>
    public static async Task<int> RunChildAsync(Uri api)
    {
        var output = TextWriter.Synchronized(Console.Out);
        using var opening = new SemaphoreSlim(100);
        var streams = new List<Task>();
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ');
            await opening.WaitAsync();
            streams.Add(HoldAsync(long.Parse(parts[0]), parts[1]));
        }
        await Task.WhenAll(streams);
        return 0;

        async Task HoldAsync(long requestId, string token)
        {
            var released = false;
            string? lastEventId = null;
            try
            {
                for (var attempt = 0; attempt < 20; attempt++)
                {
                    if (lastEventId is not null)
                    {
                        output.WriteLine($"resumed {requestId}");
                    }
                    using var stream = new EventStreamClient();
                    var status = await stream.OpenAsync(api, $"/api/bookings/requests/{requestId}/events", token, lastEventId);
                    if (!released)
                    {
                        opening.Release();
                        released = true;
                    }
                    if (status != 200)
                    {
                        output.WriteLine($"error {requestId} {status}");
                        return;
                    }
                    if (attempt == 0)
                    {
                        output.WriteLine($"open {requestId}");
                    }
                    var answer = false;
                    while (await stream.ReadLineAsync() is { } sse)
                    {
                        var text = sse.Span;
                        if (text.StartsWith("id: "u8))
                        {
                            lastEventId = Encoding.ASCII.GetString(text[4..]);
                        }
                        else if (text.SequenceEqual("event: answer"u8))
                        {
                            answer = true;
                        }
                        else if (answer && text.StartsWith("data:"u8))
                        {
                            var answered = JsonDocument.Parse(sse[5..]).RootElement.GetProperty("status").GetString();
                            output.WriteLine($"answer {requestId} {answered} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
                            return;
                        }
                    }
                    lastEventId ??= "0";
                }
                output.WriteLine($"error {requestId} no answer after 20 streams");
            }
            catch (Exception ex)
            {
                output.WriteLine($"error {requestId} {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
            }
            finally
            {
                if (!released)
                {
                    opening.Release();
                }
            }
        }
    }
}
