using System.Text;
using System.Text.Json;

namespace Evently.Tests.Infrastructure;

/// <summary>One server-sent event: its type, id and data.</summary>
public sealed record ServerSentEvent(string Type, string? Id, string Data)
{
    public T Read<T>() => JsonSerializer.Deserialize<T>(Data, JsonSerializerOptions.Web)!;
}

/// <summary>
/// A client of a text/event-stream answer, read event by event as it arrives (comments, such as keep-alives, are
/// counted and skipped). Uses its own connection: the suite's recording clients buffer whole answers.
/// </summary>
public sealed class EventStreamReader : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private EventStreamReader(HttpClient http, HttpResponseMessage response, StreamReader reader) =>
        (_http, _response, _reader) = (http, response, reader);

    private Task<string?>? _pending;

    public int Comments { get; private set; }

    /// <summary>Opens the stream, or returns the answer when it is not one (a problem, say).</summary>
    public static async Task<(EventStreamReader? Stream, HttpResponseMessage Response)> OpenAsync(
        Uri baseAddress, Caller caller, string path, string? lastEventId = null)
    {
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = caller.Http.DefaultRequestHeaders.Authorization;
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (null, response);
        }
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return (new EventStreamReader(http, response, new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8)), response);
    }

    /// <summary>
    /// The next event; null when the server ended the stream. Fails after <paramref name="timeout"/>, leaving the
    /// stream as it was: a line still coming is read by the next call.
    /// </summary>
    public async Task<ServerSentEvent?> NextAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string? type = null, id = null;
        var data = new StringBuilder();
        while (true)
        {
            _pending ??= _reader.ReadLineAsync();
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(_pending, Task.Delay(left)) != _pending)
            {
                throw new TimeoutException($"no server-sent event within {timeout.TotalSeconds} s");
            }
            var line = await _pending;
            _pending = null;
            if (line is null)
            {
                return null;
            }
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    return new ServerSentEvent(type ?? "message", id, data.ToString());
                }
                continue;
            }
            if (line.StartsWith(':'))
            {
                Comments++;
                continue;
            }
            var colon = line.IndexOf(':');
            var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
            switch (field)
            {
                case "event": type = value; break;
                case "id": id = value; break;
                case "data": data.Append(data.Length > 0 ? "\n" : "").Append(value); break;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
