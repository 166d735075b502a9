using System.Collections.Concurrent;

namespace Evently.Tests.Infrastructure;

/// <summary>One request the suite sent and the answer it got, bodies as text, and the answer's Location header.</summary>
public sealed record Exchange(
    string Method, string Path, string Query, string? RequestContentType, string? RequestBody,
    int Status, string? ResponseContentType, string? ResponseBody, string? Location = null);

/// <summary>Keeps the suite's HTTP traffic so that it can be checked against the OpenAPI document.</summary>
public sealed class TrafficRecorder
{
    // Enough for the whole suite; the race tests alone would otherwise fill memory with copies.
    private const int Capacity = 20_000;
    private readonly ConcurrentQueue<Exchange> _exchanges = new();

    public IReadOnlyCollection<Exchange> Exchanges => _exchanges;

    public HttpMessageHandler Handler() => new RecordingHandler(this) { InnerHandler = new SocketsHttpHandler() };

    private sealed class RecordingHandler(TrafficRecorder recorder) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var requestBody = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            var response = await base.SendAsync(request, cancellationToken);
            if (recorder._exchanges.Count >= Capacity)
            {
                return response;
            }

            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var responseBody = await response.Content.ReadAsStringAsync(cancellationToken);
            recorder._exchanges.Enqueue(new Exchange(
                request.Method.Method, request.RequestUri!.AbsolutePath, request.RequestUri.Query,
                request.Content?.Headers.ContentType?.MediaType, requestBody,
                (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType,
                responseBody.Length == 0 ? null : responseBody, response.Headers.Location?.OriginalString));
            return response;
        }
    }
}
