using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Evently.Soak.Checks;

/// <summary>
/// The mails smtp4dev received, through its REST API: <c>/api/messages</c> (paged summaries), then each mail's
/// headers (<c>/api/messages/{id}</c>) for its Message-Id, which the worker makes from the notification's id
/// (<c>notification-{id}@evently.local</c>): so every mail is matched to exactly one notification row.
/// </summary>
internal sealed partial class MailBox(Uri endpoint)
{
    private const int PageSize = 1_000;
    private readonly HttpClient _http = new() { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(60) };

    public async Task<int> CountAsync() => (await SummariesAsync()).Count;

    /// <summary>How many mails carry each notification's Message-Id; mails without one count under -1.</summary>
    public async Task<IReadOnlyDictionary<long, int>> MailsPerNotificationAsync()
    {
        var counts = new ConcurrentDictionary<long, int>();
        await Parallel.ForEachAsync(await SummariesAsync(), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
        {
            using var json = JsonDocument.Parse(await _http.GetStringAsync($"/api/messages/{id}"));
            var messageId = json.RootElement.GetProperty("headers").EnumerateArray()
                .Where(h => string.Equals(h.GetProperty("name").GetString(), "Message-ID", StringComparison.OrdinalIgnoreCase))
                .Select(h => h.GetProperty("value").GetString()).FirstOrDefault() ?? "";
            var match = NotificationMessageId().Match(messageId);
            counts.AddOrUpdate(match.Success ? long.Parse(match.Groups[1].Value) : -1, 1, (_, n) => n + 1);
        });
        return counts;
    }

    private async Task<List<string>> SummariesAsync()
    {
        var ids = new List<string>();
        for (var page = 1; ; page++)
        {
            using var json = JsonDocument.Parse(await _http.GetStringAsync($"/api/messages?page={page}&pageSize={PageSize}"));
            var results = json.RootElement.ValueKind == JsonValueKind.Array ? json.RootElement : json.RootElement.GetProperty("results");
            ids.AddRange(results.EnumerateArray().Select(m => m.GetProperty("id").ToString()));
            if (json.RootElement.ValueKind == JsonValueKind.Array || results.GetArrayLength() < PageSize)
            {
                return ids;
            }
        }
    }

    [GeneratedRegex(@"notification-(\d+)@")]
    private static partial Regex NotificationMessageId();
}
