using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Evently.Soak.Checks;

/// <summary>
/// The mails smtp4dev received, through its REST API: <c>/api/messages</c> (paged summaries), then each mail's
/// headers (<c>/api/messages/{id}</c>) for its Message-Id, which the worker makes from the notification's id
/// (<c>notification-{id}@evently.local</c>), and its <c>X-Evently-Notifications</c> header, which lists every
/// notification it carries (a buyer's answers from one on-sale are one mail): so every notification row is matched
/// to the mails that carried it.
/// </summary>
internal sealed partial class MailBox(Uri endpoint)
{
    private const int PageSize = 1_000;
    private readonly HttpClient _http = new() { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(60) };

    public async Task<int> CountAsync() => (await SummariesAsync()).Count;

    /// <summary>How many mails carry each notification; mails that name none count under -1.</summary>
    public async Task<IReadOnlyDictionary<long, int>> MailsPerNotificationAsync()
    {
        var counts = new ConcurrentDictionary<long, int>();
        await Parallel.ForEachAsync(await SummariesAsync(), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
        {
            using var json = JsonDocument.Parse(await _http.GetStringAsync($"/api/messages/{id}"));
            var headers = json.RootElement.GetProperty("headers").EnumerateArray()
                .ToLookup(h => h.GetProperty("name").GetString() ?? "", h => h.GetProperty("value").GetString() ?? "", StringComparer.OrdinalIgnoreCase);
            var carried = headers["X-Evently-Notifications"].SelectMany(list => list.Split(',', StringSplitOptions.TrimEntries))
                .Select(value => long.TryParse(value, out var notification) ? notification : -1).ToList();
            if (carried.Count == 0)
            {
                var match = NotificationMessageId().Match(headers["Message-ID"].FirstOrDefault() ?? "");
                carried.Add(match.Success ? long.Parse(match.Groups[1].Value) : -1);
            }
            foreach (var notification in carried)
            {
                counts.AddOrUpdate(notification, 1, (_, n) => n + 1);
            }
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
