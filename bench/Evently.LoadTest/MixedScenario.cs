namespace Evently.LoadTest;

internal sealed record MixedResult(
    ScenarioResult ReadsAlone, ScenarioResult BookingsAlone, ScenarioResult ReadsDuringBookings, ScenarioResult BookingsDuringReads,
    StalenessResult Staleness, IReadOnlyList<string> ReadPaths, int BookedEventCapacity, InvariantReport Invariants);

/// <summary>
/// Browsing while an event sells: anonymous readers of the event list and details alone, bookers of one big
/// event alone, then both populations at once (each with <see cref="LoadSettings.Clients"/> clients, so each
/// keeps the concurrency it had alone and the ratios show what the other load costs it), with a
/// <see cref="StalenessProbe"/> timing how far the reads lag the bookings meanwhile.
/// </summary>
internal static class MixedScenario
{
    private const int BookedEventCapacity = 10_000_000;
    private const int ProbeEventCapacity = 1_000_000;
    private const int BookedEvent = 0, ProbeEvent = 1;

    public static async Task<MixedResult> RunAsync(EventlyApi api, SeedData seed, LoadSettings settings)
    {
        var adminToken = await api.LoginAsync("admin@evently.local", "evently-admin-dev");
        var startsAt = DateTimeOffset.UtcNow.AddDays(30);
        var booked = await api.CreateEventAsync(adminToken, new CreateEventRequest("Load test: mixed, booked", "Booked while others browse.",
            "Benchmark Arena", startsAt, startsAt.AddHours(3), BookedEventCapacity));
        // Sooner than every other event, so it heads the first page of the list and the probe can read it there too.
        var probeStartsAt = DateTimeOffset.UtcNow.AddDays(7);
        var probe = await api.CreateEventAsync(adminToken, new CreateEventRequest("Load test: staleness probe", "Booked by the probe alone.",
            "Benchmark Arena", probeStartsAt, probeStartsAt.AddHours(3), ProbeEventCapacity));
        await api.RegisterAsync("load-probe@example.com", "load-test-password", "Load probe");
        var probeToken = await api.LoginAsync("load-probe@example.com", "load-test-password");
        var ledger = new BookingLedger(2);

        // What a browser asks for: the first pages, a search, and a few events (the one on sale among them).
        string[] reads =
        [
            "/api/events?page=1&pageSize=20", "/api/events?page=2&pageSize=20", "/api/events?page=3&pageSize=20",
            "/api/events?q=Arena&page=1&pageSize=20",
            $"/api/events/{booked.Id}", .. seed.Events.Skip(1).Take(3).Select(e => $"/api/events/{e.Id}")
        ];
        var listPath = await api.TryReadBookedInListAsync(reads[0], probe.Id) is null ? null : reads[0];

        Task<int> ReadAsync(int _) => api.ReadAsync(reads[Random.Shared.Next(reads.Length)]);
        async Task<int> BookAsync(int client)
        {
            var status = await api.BookAsync(seed.UserTokens[client], booked.Id);
            ledger.Record(BookedEvent, status);
            return status;
        }

        var readsAlone = await LoadRunner.RunAsync("Reads alone", 200, settings, ReadAsync);
        var bookingsAlone = await LoadRunner.RunAsync("Bookings alone", 201, settings, BookAsync);
        StalenessResult? staleness = null;
        var prober = new StalenessProbe(api, probeToken, probe.Id, listPath, status => ledger.Record(ProbeEvent, status));
        var both = await LoadRunner.RunTogetherAsync(settings,
            [new Load("Reads during bookings", 200, ReadAsync), new Load("Bookings during reads", 201, BookAsync)],
            async duration => staleness = await prober.RunAsync(duration));

        var invariants = await ledger.VerifyAsync(api, [booked, probe]);
        return new MixedResult(readsAlone, bookingsAlone, both[0], both[1], staleness!, reads, BookedEventCapacity, invariants);
    }
}
