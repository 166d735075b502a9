using System.Collections.Concurrent;

namespace Evently.ApiService.Analytics;

/// <summary>
/// The analytics answers, kept in this process for up to <see cref="MaxAge"/>. The figures are the same for
/// every admin, so one copy serves them all. An answer's age counts from before its query ran, so no answer
/// is ever more than <see cref="MaxAge"/> older than the data it shows.
/// </summary>
public sealed class AnalyticsCache(TimeProvider timeProvider)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    // Enough for every question the admin page asks, and more; beyond it, expired answers are dropped.
    private const int PruneAbove = 256;

    private readonly ConcurrentDictionary<string, Entry> _entries = new();

    private sealed record Entry(object Value, DateTimeOffset AsOf);

    /// <param name="refresh">Compute afresh even if a copy is young enough (and keep the new one).</param>
    /// <returns>The answer and its age.</returns>
    public async Task<(T Value, TimeSpan Age)> GetAsync<T>(string key, bool refresh, Func<CancellationToken, Task<T>> compute,
        CancellationToken cancellationToken) where T : notnull
    {
        var now = timeProvider.GetUtcNow();
        if (!refresh && _entries.TryGetValue(key, out var cached) && now - cached.AsOf < MaxAge)
        {
            return ((T)cached.Value, now - cached.AsOf);
        }

        var value = await compute(cancellationToken);
        _entries[key] = new Entry(value, now);
        if (_entries.Count > PruneAbove)
        {
            foreach (var (staleKey, entry) in _entries.Where(e => now - e.Value.AsOf >= MaxAge))
            {
                _entries.TryRemove(KeyValuePair.Create(staleKey, entry));
            }
        }
        return (value, timeProvider.GetUtcNow() - now);
    }
}
