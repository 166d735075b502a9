using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Evently.Domain.Analytics;
using MySqlConnector;

namespace Evently.LoadTest;

internal sealed record EndpointLatency(string Name, int Calls, double UncachedP50Ms, double UncachedP99Ms, double CachedP50Ms,
    double CachedP99Ms, int Bytes);

internal sealed record AnalyticsResult(
    long Bookings, long Cancelled, int Events, double SeedSeconds, IReadOnlyList<EndpointLatency> Endpoints,
    IReadOnlyList<(string What, double Ms)> WithoutRollups, IReadOnlyList<string> Checks)
{
    public bool Holds => Checks.All(c => c.EndsWith("PASS"));
}

/// <summary>
/// The admin analytics at scale: seeds events and bookings set-based in SQL (INSERT ... SELECT over MariaDB's
/// sequence engine: 10% cancelled, made over the last 365 days, popular events first), rebuilds the rollups
/// from them as the services would have kept them, checks a few figures against the bookings table, then
/// times each endpoint uncached ('Cache-Control: no-cache') and cached, one call at a time.
/// </summary>
internal static class AnalyticsScenario
{
    private const int Users = 1_000;
    private const int Chunk = 100_000;

    public static async Task<AnalyticsResult> RunAsync(HttpClient http, EventlyApi api, string connectionString,
        int events, int bookings, int calls)
    {
        await using var db = new MySqlConnection(connectionString);
        await db.OpenAsync();
        var seeding = Stopwatch.StartNew();
        await SeedAsync(db, events, bookings);
        var seedSeconds = seeding.Elapsed.TotalSeconds;
        var totals = await ScalarsAsync(db, "SELECT COUNT(*), COALESCE(SUM(Status = 'Cancelled'), 0) FROM bookings");
        var eventCount = (int)(await ScalarsAsync(db, "SELECT COUNT(*) FROM events"))[0];
        Console.WriteLine($"Seeded in {seedSeconds:N0} s: {totals[0]:N0} bookings ({totals[1]:N0} cancelled) over {eventCount:N0} events.");

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            await api.LoginAsync("admin@evently.local", "evently-admin-dev"));
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var year = $"from={today.AddDays(-365):yyyy-MM-dd}&to={today:yyyy-MM-dd}";
        var checks = await CheckAsync(http, db, today, year);

        (string Name, string Path)[] endpoints =
        [
            ("bookings, last 30 days (default)", "/api/analytics/bookings"),
            ("bookings, 366 days", $"/api/analytics/bookings?{year}"),
            ("events, top=10", "/api/analytics/events?top=10"),
            ("events, top=100", "/api/analytics/events?top=100"),
            ($"utilization ({eventCount:N0} events)", "/api/analytics/utilization")
        ];
        var results = new List<EndpointLatency>();
        foreach (var (name, path) in endpoints)
        {
            Console.WriteLine($"Timing {name}: {calls} calls uncached, {calls * 4} cached");
            var uncached = await TimeAsync(http, path, fresh: true, calls);
            var cached = await TimeAsync(http, path, fresh: false, calls * 4);
            results.Add(new EndpointLatency(name, calls, uncached.P50, uncached.P99, cached.P50, cached.P99, uncached.Bytes));
        }

        // The same figures counted from the bookings table, as a version without rollups would: why they exist.
        var withoutRollups = new List<(string, double)>
        {
            ("daily series, 366 days", await TimeSqlAsync(db, $"""
                SELECT DATE(CreatedAt), COUNT(*), SUM(IF(Status = 'Confirmed', Quantity, 0)) FROM bookings
                WHERE CreatedAt >= '{today.AddDays(-365):yyyy-MM-dd}' GROUP BY DATE(CreatedAt)
                """)),
            ("most booked, top=10", await TimeSqlAsync(db, """
                SELECT EventId, SUM(IF(Status = 'Confirmed', Quantity, 0)) AS Tickets, COUNT(*) FROM bookings
                GROUP BY EventId ORDER BY Tickets DESC, EventId LIMIT 10
                """))
        };
        return new AnalyticsResult(totals[0], totals[1], eventCount, seedSeconds, results, withoutRollups, checks);
    }

    private static async Task SeedAsync(MySqlConnection db, int events, int bookings)
    {
        var prefix = $"an{DateTime.UtcNow:HHmmss}";
        var now = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        Console.WriteLine($"Seeding {Users:N0} users, {events:N0} events and {bookings:N0} bookings set-based...");
        await ExecuteAsync(db, $"""
            INSERT INTO users (Email, NormalizedEmail, Name, PasswordHash, Role, CreatedAt)
            SELECT CONCAT('{prefix}-', seq, '@example.com'), UPPER(CONCAT('{prefix}-', seq, '@example.com')), CONCAT('Analytics user ', seq),
                   'not-a-password-hash', 'user', '{now}'
            FROM seq_1_to_{Users}
            """);
        // Events start from a year ago to two months ahead; capacity is set once their bookings are in.
        await ExecuteAsync(db, $"""
            INSERT INTO events (Name, Description, Venue, StartsAt, EndsAt, Capacity, Booked, Held, Status, HasSeating, HighDemand, CreatedAt, UpdatedAt, Version)
            SELECT CONCAT('Analytics event ', seq), 'Seeded by the analytics benchmark.', CONCAT('Hall ', seq % 50),
                   Starts, Starts + INTERVAL 3 HOUR, 1000000, 0, 0, 'Scheduled', 0, 0, '{now}' - INTERVAL 400 DAY, '{now}', 0
            FROM (SELECT seq, '{now}' - INTERVAL 365 DAY + INTERVAL (seq * 7919 % 425) DAY AS Starts FROM seq_1_to_{events}) AS s
            """);
        var firstUser = await FirstOfConsecutiveAsync(db, "users", $"Email LIKE '{prefix}-%'", Users);
        var firstEvent = await FirstOfConsecutiveAsync(db, "events", $"Name LIKE 'Analytics event %' AND CreatedAt = '{now}' - INTERVAL 400 DAY", events);

        // Every tenth booking cancelled, up to three days after it was made; the square of a uniform number
        // picks the event, so a few events are far more popular than the rest.
        for (var start = 1; start <= bookings; start += Chunk)
        {
            var end = Math.Min(bookings, start + Chunk - 1);
            await ExecuteAsync(db, $"""
                INSERT INTO bookings (EventId, UserId, Quantity, Status, CreatedAt, CancelledAt)
                SELECT {firstEvent} + FLOOR(POW((CRC32(seq) % 1000000) / 1000000, 2) * {events}), {firstUser} + seq % {Users}, 1 + seq % 4,
                       IF(seq % 10 = 0, 'Cancelled', 'Confirmed'), Made,
                       IF(seq % 10 = 0, LEAST(Made + INTERVAL (seq % 72) HOUR, '{now}'), NULL)
                FROM (SELECT seq, '{now}' - INTERVAL (CRC32(CONCAT('made', seq)) % (365 * 86400)) SECOND AS Made
                      FROM seq_{start}_to_{end}) AS s
                """);
            Console.WriteLine($"  {end:N0} bookings");
        }

        // Booked as the invariant says, then capacities that leave each event between about 35% and 95% full.
        await ExecuteAsync(db, $"""
            UPDATE events e JOIN (SELECT EventId, SUM(Quantity) AS Tickets FROM bookings WHERE Status = 'Confirmed' GROUP BY EventId) t
              ON t.EventId = e.Id
            SET e.Booked = t.Tickets
            WHERE e.Id BETWEEN {firstEvent} AND {firstEvent + events - 1};
            UPDATE events SET Capacity = GREATEST(Booked, CEIL(Booked / (0.35 + 0.6 * (CRC32(Id) % 1000) / 1000)), 50)
            WHERE Id BETWEEN {firstEvent} AND {firstEvent + events - 1};
            """);
        Console.WriteLine("Rebuilding the analytics rollups from the bookings...");
        await ExecuteAsync(db, BookingRollup.RebuildSql);
    }

    // A few figures of each endpoint against the bookings table itself.
    private static async Task<List<string>> CheckAsync(HttpClient http, MySqlConnection db, DateOnly today, string year)
    {
        var from = $"{today.AddDays(-365):yyyy-MM-dd}";
        var expected = await ScalarsAsync(db, $"""
            SELECT COUNT(*), COALESCE(SUM(Status = 'Cancelled'), 0), COALESCE(SUM(IF(Status = 'Confirmed', Quantity, 0)), 0)
            FROM bookings WHERE CreatedAt >= '{from}'
            """);
        var figures = await GetAsync<BookingFigures>(http, $"/api/analytics/bookings?{year}");
        var topExpected = await ScalarsAsync(db, """
            SELECT EventId, SUM(IF(Status = 'Confirmed', Quantity, 0)) AS Tickets FROM bookings
            GROUP BY EventId ORDER BY Tickets DESC, EventId LIMIT 1
            """);
        var top = (await GetAsync<List<TopEvent>>(http, "/api/analytics/events?top=1")).Single();
        var booked = await ScalarsAsync(db, "SELECT SUM(Booked), SUM(Capacity) FROM events WHERE Status = 'Scheduled'");
        var utilization = await GetAsync<Utilization>(http, "/api/analytics/utilization");

        return
        [
            Check($"bookings of 366 days: {figures.TotalBookings:N0} made, {figures.CancelledBookings:N0} cancelled, {figures.TicketsSold:N0} tickets",
                (figures.TotalBookings, figures.CancelledBookings, figures.TicketsSold) == (expected[0], expected[1], expected[2])
                && figures.Daily.Count == 366 && figures.Daily.Sum(d => (long)d.Bookings) == figures.TotalBookings),
            Check($"most booked: event {top.EventId} with {top.TicketsSold:N0} tickets", (top.EventId, top.TicketsSold) == (topExpected[0], topExpected[1])),
            Check($"utilization overall {utilization.Overall:P1}", Math.Abs(utilization.Overall - (double)booked[0] / booked[1]) < 1e-12)
        ];

        static string Check(string what, bool holds) => $"{what}: {(holds ? "PASS" : "FAIL")}";
    }

    private static async Task<(double P50, double P99, int Bytes)> TimeAsync(HttpClient http, string path, bool fresh, int calls)
    {
        var latencies = new List<double>();
        var bytes = 0;
        if (!fresh)
        {
            await http.GetAsync(path); // fills the cache
        }
        for (var i = 0; i < calls; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (fresh)
            {
                request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
            }
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"GET {path} -> {(int)response.StatusCode}");
            }
            bytes = body.Length;
        }
        var sorted = latencies.Order().ToArray();
        return (Percentile(sorted, 0.50), Percentile(sorted, 0.99), bytes);
    }

    private static async Task<double> TimeSqlAsync(MySqlConnection db, string sql)
    {
        var started = Stopwatch.GetTimestamp();
        await using var command = new MySqlCommand(sql, db) { CommandTimeout = 600 };
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
        }
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    // The rows of one INSERT ... SELECT get consecutive ids; checked rather than assumed.
    private static async Task<long> FirstOfConsecutiveAsync(MySqlConnection db, string table, string where, int count)
    {
        var ids = await ScalarsAsync(db, $"SELECT MIN(Id), MAX(Id), COUNT(*) FROM {table} WHERE {where}");
        if (ids[1] - ids[0] + 1 != count || ids[2] != count)
        {
            throw new InvalidOperationException($"The {count:N0} seeded rows of {table} do not have consecutive ids.");
        }
        return ids[0];
    }

    private static async Task ExecuteAsync(MySqlConnection db, string sql)
    {
        await using var command = new MySqlCommand(sql, db) { CommandTimeout = 1800 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long[]> ScalarsAsync(MySqlConnection db, string sql)
    {
        await using var command = new MySqlCommand(sql, db) { CommandTimeout = 600 };
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture)).ToArray();
    }

    private static async Task<T> GetAsync<T>(HttpClient http, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private sealed record Day(int Bookings);
    private sealed record BookingFigures(long TotalBookings, long CancelledBookings, long TicketsSold, List<Day> Daily);
    private sealed record TopEvent(long EventId, long TicketsSold);
    private sealed record Utilization(double Overall);
}
