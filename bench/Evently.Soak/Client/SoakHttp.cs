using System.Net.Http.Headers;
using System.Text.Json;

namespace Evently.Soak.Client;

/// <summary>
/// A careful client: every request is retried after a timeout, a broken connection, a 502/503/504 or a 429, with
/// the same body and the same Idempotency-Key, after a bounded exponential backoff (100 ms doubling to 2 s, or
/// the server's Retry-After up to 2 s), for at most <see cref="RetryBudget"/>. Every attempt's answer goes to
/// the ledger, so a 503 is counted once per answer, and so is every retry.
/// </summary>
internal sealed class SoakHttp(Ledger ledger)
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(8);
    public static readonly TimeSpan RetryBudget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    /// <param name="kind">What the request is for, as counted in the report (<c>book-direct</c>, <c>browse-event</c>...).</param>
    public async Task<Answer> SendAsync(string kind, HttpClient http, HttpMethod method, string path, string? token = null,
        object? body = null, string? idempotencyKey = null)
    {
        var started = DateTime.UtcNow;
        var backoff = FirstBackoff;
        for (var attempt = 1; ; attempt++)
        {
            var sentAt = DateTime.UtcNow;
            var (status, json, retryAfter, text) = await TryOnceAsync(http, method, path, token, body, idempotencyKey);
            ledger.RecordAttempt(kind, method, path, sentAt, status, text);
            if (!IsTransient(status))
            {
                var answer = new Answer(status, json, GaveUp: false, attempt);
                ledger.RecordAnswer(kind, answer);
                return answer;
            }
            if (DateTime.UtcNow - started > RetryBudget)
            {
                var unknown = new Answer(status, json, GaveUp: true, attempt);
                ledger.RecordAnswer(kind, unknown);
                return unknown;
            }
            ledger.RecordRetry(kind, status);
            var wait = backoff * (0.5 + Random.Shared.NextDouble() / 2);
            if (retryAfter is { } server && server > wait)
            {
                wait = server < MaxBackoff ? server : MaxBackoff;
            }
            await Task.Delay(wait);
            backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
        }
    }

    /// <summary>No answer (timeout, connection refused or reset), or an answer that says "not now": worth repeating.</summary>
    public static bool IsTransient(int status) => status is Answer.NoResponse or 429 or 502 or 503 or 504;

    private static async Task<(int Status, JsonElement? Json, TimeSpan? RetryAfter, string Text)> TryOnceAsync(
        HttpClient http, HttpMethod method, string path, string? token, object? body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        using var timeout = new CancellationTokenSource(AttemptTimeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            JsonElement? json = null;
            if (text.Length > 0 && text[0] is '{' or '[')
            {
                try
                {
                    json = JsonDocument.Parse(text).RootElement;
                }
                catch (JsonException)
                {
                    // Recorded by status; a body that is not JSON is kept as text for the report.
                }
            }
            var retryAfter = response.Headers.RetryAfter?.Delta;
            return ((int)response.StatusCode, json, retryAfter, text);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return (Answer.NoResponse, null, null, ex.GetType().Name);
        }
    }
}
