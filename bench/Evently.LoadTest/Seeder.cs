namespace Evently.LoadTest;

/// <summary>What the scenarios book against: <see cref="Events"/>[0] is the big event, the rest are spread over.</summary>
internal sealed record SeedData(IReadOnlyList<EventResponse> Events, IReadOnlyList<string> UserTokens)
{
    public const int BigEvent = 0;
    public int SpreadEventCount => Events.Count - 1;
}

/// <summary>Creates the events and users through the HTTP API, as a client would.</summary>
internal static class Seeder
{
    private const int SpreadEvents = 1_000;
    // Far more than a run can book, so no scenario measures sold-out answers.
    private const int BigEventCapacity = 10_000_000;
    private const int SpreadEventCapacity = 100_000;
    private const string UserPassword = "load-test-password";
    private static readonly ParallelOptions Bounded = new() { MaxDegreeOfParallelism = 16 };

    public static async Task<SeedData> RunAsync(EventlyApi api, int users)
    {
        var adminToken = await api.LoginAsync("admin@evently.local", "evently-admin-dev");

        var events = new EventResponse[SpreadEvents + 1];
        events[SeedData.BigEvent] = await api.CreateEventAsync(adminToken, NewEvent("Load test: one big event", BigEventCapacity));
        await Parallel.ForEachAsync(Enumerable.Range(1, SpreadEvents), Bounded, async (i, _) =>
            events[i] = await api.CreateEventAsync(adminToken, NewEvent($"Load test event {i}", SpreadEventCapacity)));

        var tokens = new string[users];
        await Parallel.ForEachAsync(Enumerable.Range(0, users), Bounded, async (i, _) =>
        {
            var email = $"load-{i}@example.com";
            await api.RegisterAsync(email, UserPassword, $"Load user {i}");
            tokens[i] = await api.LoginAsync(email, UserPassword);
        });
        return new SeedData(events, tokens);
    }

    private static CreateEventRequest NewEvent(string name, int capacity)
    {
        var startsAt = DateTimeOffset.UtcNow.AddDays(30);
        return new(name, "Created by the load benchmark.", "Benchmark Arena", startsAt, startsAt.AddHours(3), capacity);
    }
}
