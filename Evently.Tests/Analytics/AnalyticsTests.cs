using System.Diagnostics;
using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Analytics;

[Collection(AppCollection.Name)]
public sealed class AnalyticsTests(EventlyAppFixture fixture)
{
    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd");

    [Fact]
    public async Task Bookings_of_a_known_window_give_exact_totals_and_every_day_zeros_included()
    {
        var window = await KnownWindow.CreateAsync(fixture);
        using var admin = await fixture.AdminAsync();

        var figures = (await admin.Http.GetFromJsonAsync<BookingAnalyticsDto>(
            $"/api/analytics/bookings?from={Day(window.From)}&to={Day(window.To)}"))!;

        Assert.Equal(window.ExpectedDaily, figures.Daily);
        var (total, confirmed, cancelled, tickets, rate) = KnownWindow.ExpectedTotals;
        Assert.Equal((total, confirmed, cancelled, tickets, rate),
            (figures.TotalBookings, figures.ConfirmedBookings, figures.CancelledBookings, figures.TicketsSold, figures.CancellationRate));
        Assert.Equal((window.From, window.To), (figures.From, figures.To));

        // The middle of the window: of b3, b4 and the seat (made on days 1 to 3), b3 and b4 are cancelled.
        var middle = (await admin.Http.GetFromJsonAsync<BookingAnalyticsDto>(
            $"/api/analytics/bookings?from={Day(window.From.AddDays(1))}&to={Day(window.From.AddDays(3))}"))!;
        Assert.Equal(window.ExpectedDaily[1..4], middle.Daily);
        Assert.Equal((3L, 1L, 2L, 1L, 2.0 / 3),
            (middle.TotalBookings, middle.ConfirmedBookings, middle.CancelledBookings, middle.TicketsSold, middle.CancellationRate));

        // One day with nothing, and a range with nothing at all.
        var quiet = (await admin.Http.GetFromJsonAsync<BookingAnalyticsDto>(
            $"/api/analytics/bookings?from={Day(window.From.AddDays(4))}&to={Day(window.From.AddDays(4))}"))!;
        Assert.Equal([window.ExpectedDaily[4]], quiet.Daily);
        Assert.Equal((0L, 0L, 0L, 0L, 0.0), (quiet.TotalBookings, quiet.ConfirmedBookings, quiet.CancelledBookings, quiet.TicketsSold, quiet.CancellationRate));
    }

    [Fact]
    public async Task Without_a_range_the_answer_is_the_last_30_days_today_included()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 10);
        var before = await admin.FreshAsync<BookingAnalyticsDto>("/api/analytics/bookings");
        await user.BookAsync(evt.Id, 3).BookedAsync();

        var after = await admin.FreshAsync<BookingAnalyticsDto>("/api/analytics/bookings");

        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        Assert.Equal(30, after.Daily.Count);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => today.AddDays(i - 29)), after.Daily.Select(d => d.Date));
        Assert.Equal((today.AddDays(-29), today), (after.From, after.To));
        Assert.Equal(after.Daily.Sum(d => (long)d.Bookings), after.TotalBookings);
        // Other tests may book meanwhile, but never take a booking away.
        Assert.True(after.TotalBookings >= before.TotalBookings + 1 && after.Daily[^1].TicketsSold >= before.Daily[^1].TicketsSold + 3);
    }

    [Fact]
    public async Task Analytics_are_for_admins_only()
    {
        using var user = await fixture.NewUserAsync();
        string[] paths = ["/api/analytics/bookings", "/api/analytics/events", "/api/analytics/utilization"];
        foreach (var path in paths)
        {
            await (await fixture.Api.GetAsync(path)).ReadProblemAsync(HttpStatusCode.Unauthorized);
            await (await user.Http.GetAsync(path)).ReadProblemAsync(HttpStatusCode.Forbidden);
        }
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { "/api/analytics/bookings?from=2027-03-10&to=2027-03-09", "to" },
        { "/api/analytics/bookings?from=2027-01-01&to=2028-01-02", "from" }, // 367 days
        { $"/api/analytics/bookings?from={Day(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1))}", "to" }, // to defaults to today
        { "/api/analytics/bookings?from=yesterday", "" },
        { "/api/analytics/bookings?to=2027-02-30", "" },
        // The edges of the calendar: no default range runs off it, and no day outside what MySQL stores is asked for.
        { "/api/analytics/bookings?to=0001-01-01", "to" },
        { "/api/analytics/bookings?from=0001-01-01&to=0001-01-02", "from" },
        { "/api/analytics/bookings?from=0999-12-31&to=1000-01-01", "from" },
        { "/api/analytics/bookings?from=9999-12-31", "to" }, // to defaults to today
        { "/api/analytics/bookings?from=0001-01-01&to=9999-12-31", "from" },
        { "/api/analytics/bookings?to=10000-01-01", "" },
        { "/api/analytics/events?top=0", "top" },
        { "/api/analytics/events?top=101", "top" },
        { "/api/analytics/events?top=ten", "" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task Bad_ranges_and_counts_are_400_problems(string path, string field)
    {
        using var admin = await fixture.AdminAsync();

        var problem = await (await admin.Http.GetAsync(path)).ReadProblemAsync(HttpStatusCode.BadRequest);

        if (field.Length > 0)
        {
            Assert.NotEmpty(problem.FieldErrors(field));
        }
    }

    [Theory]
    [InlineData("to=1000-01-01", "1000-01-01", "1000-01-01")] // the default 30 days, cut at the first day
    [InlineData("to=1000-01-10", "1000-01-01", "1000-01-10")]
    [InlineData("from=9999-12-31&to=9999-12-31", "9999-12-31", "9999-12-31")]
    [InlineData("to=9999-12-31", "9999-12-02", "9999-12-31")]
    public async Task The_first_and_last_days_a_date_column_holds_are_answered(string query, string from, string to)
    {
        using var admin = await fixture.AdminAsync();

        var answer = (await admin.Http.GetFromJsonAsync<BookingAnalyticsDto>($"/api/analytics/bookings?{query}"))!;

        Assert.Equal((DateOnly.Parse(from), DateOnly.Parse(to)), (answer.Daily[0].Date, answer.Daily[^1].Date));
        Assert.All(answer.Daily, day => Assert.Equal(0, day.Bookings));
    }

    [Fact]
    public async Task The_widest_range_is_366_days_and_a_single_day_is_fine()
    {
        using var admin = await fixture.AdminAsync();

        var leapYear = (await admin.Http.GetFromJsonAsync<BookingAnalyticsDto>("/api/analytics/bookings?from=2028-01-01&to=2028-12-31"))!;
        var oneDay = (await admin.Http.GetFromJsonAsync<BookingAnalyticsDto>("/api/analytics/bookings?from=2027-03-01&to=2027-03-01"))!;

        Assert.Equal(366, leapYear.Daily.Count);
        Assert.Equal(new DateOnly(2028, 2, 29), leapYear.Daily[59].Date);
        Assert.Equal([new DailyBookingsDto(new DateOnly(2027, 3, 1), 0, 0, 0)], oneDay.Daily);
    }

    [Fact]
    public async Task Most_booked_events_and_utilization_equal_a_recount_of_the_bookings()
    {
        var window = await KnownWindow.CreateAsync(fixture);
        using var admin = await fixture.AdminAsync();

        // The figures are global and other tests' work may still land (the worker answers queues and offers):
        // compare when the recount did not change while the API answered.
        await AnalyticsTestApi.StableAsync(async () =>
        {
            var recount = await RecountEventsAsync();
            var top = await admin.FreshAsync<List<EventAnalyticsDto>>("/api/analytics/events?top=100");
            var utilization = await admin.FreshAsync<UtilizationDto>("/api/analytics/utilization");
            if (recount != await RecountEventsAsync())
            {
                return false;
            }

            var expectedTop = recount.Events
                .Where(e => e.Bookings > 0)
                .OrderByDescending(e => e.Tickets).ThenBy(e => e.Id).Take(100)
                .Select(e => new EventAnalyticsDto(e.Id, e.Name, e.Tickets, e.Bookings, e.Cancellations,
                    (double)e.Cancellations / e.Bookings, (double)e.Tickets / e.Capacity))
                .ToList();
            Assert.Equal(expectedTop, top);

            var scheduled = recount.Events.Where(e => e.Status == EventStatus.Scheduled).ToList();
            var expectedFill = scheduled
                .Select(e => new EventUtilizationDto(e.Id, e.Name, e.Capacity, e.Tickets, (double)e.Tickets / e.Capacity))
                .OrderByDescending(e => e.Utilization).ThenBy(e => e.EventId)
                .ToList();
            Assert.Equal(expectedFill, utilization.Events);
            Assert.Equal((double)scheduled.Sum(e => (long)e.Tickets) / scheduled.Sum(e => (long)e.Capacity), utilization.Overall, 12);
            return true;
        });

        // The window's own events, in words: the plain one has 5 bookings, 2 cancelled, 3 + 5 + 6 tickets left.
        var plain = (await admin.Http.GetFromJsonAsync<List<EventAnalyticsDto>>("/api/analytics/events?top=100"))!
            .SingleOrDefault(e => e.EventId == window.PlainEventId);
        if (plain is not null)
        {
            Assert.Equal((14, 5, 2, 0.4, 0.14), (plain.TicketsSold, plain.Bookings, plain.Cancellations, plain.CancellationRate, plain.Utilization));
        }
        var utilizationNow = await admin.FreshAsync<UtilizationDto>("/api/analytics/utilization");
        Assert.DoesNotContain(utilizationNow.Events, e => e.EventId == window.CancelledEventId);
        Assert.Contains(new EventUtilizationDto(window.SeatedEventId, utilizationNow.Events.Single(e => e.EventId == window.SeatedEventId).Name, 2, 1, 0.5),
            utilizationNow.Events);
    }

    [Fact]
    public async Task A_cached_answer_is_at_most_30_seconds_old_and_no_cache_asks_afresh()
    {
        var window = await KnownWindow.CreateAsync(fixture);
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var path = $"/api/analytics/bookings?from={Day(window.From)}&to={Day(window.To)}";
        var lastDay = $"/api/analytics/bookings?from={Day(window.To)}&to={Day(window.To)}";
        var first = await admin.Http.GetAsync(path);
        Assert.Equal("0", first.Headers.GetValues("Age").Single());
        var total = (await first.Content.ReadFromJsonAsync<BookingAnalyticsDto>())!.TotalBookings;
        await admin.Http.GetAsync(lastDay);

        // One more booking on the window's last day, after both answers were cached.
        await using (var services = new ClockedServices(fixture, new DateTimeOffset(window.To.ToDateTime(new TimeOnly(23, 59, 59)), TimeSpan.Zero)))
        {
            await services.BookAsync(user.User.Id, window.PlainEventId, 1);
        }
        var changed = Stopwatch.StartNew();

        // Asked for afresh, the change shows at once.
        Assert.Equal(2, (await admin.FreshAsync<BookingAnalyticsDto>(lastDay)).TotalBookings);

        // From the cache, within 30 s of the change, and no answer ever says it is older than that. Measured at each
        // request's start: the poll's spacing and the request's own time are not the cache's.
        long seen;
        var lastStale = TimeSpan.Zero;
        do
        {
            var asked = changed.Elapsed;
            var response = await admin.Http.GetAsync(path);
            Assert.InRange(int.Parse(response.Headers.GetValues("Age").Single()), 0, 30);
            seen = (await response.Content.ReadFromJsonAsync<BookingAnalyticsDto>())!.TotalBookings;
            lastStale = seen == total ? asked : lastStale;
            await Task.Delay(seen == total ? 500 : 0);
        }
        while (seen == total && changed.Elapsed < TimeSpan.FromSeconds(35));
        Assert.Equal(total + 1, seen);
        Assert.True(lastStale <= TimeSpan.FromSeconds(30.5), $"a request made {lastStale.TotalSeconds:F1} s after the change got the answer before it");
    }

    private sealed record RecountedEvent(long Id, string Name, int Capacity, EventStatus Status, int Bookings, int Cancellations, int Tickets);

    private sealed record Recount(List<RecountedEvent> Events)
    {
        public bool Equals(Recount? other) => other is not null && Events.SequenceEqual(other.Events);
        public override int GetHashCode() => Events.Count;
    }

    // Straight from the bookings table, without the rollups.
    private async Task<Recount> RecountEventsAsync()
    {
        await using var db = fixture.CreateDbContext();
        var bookings = await db.Bookings.AsNoTracking().GroupBy(b => b.EventId)
            .Select(g => new
            {
                EventId = g.Key,
                Bookings = g.Count(),
                Cancellations = g.Count(b => b.Status == BookingStatus.Cancelled),
                Tickets = g.Sum(b => b.Status == BookingStatus.Confirmed ? b.Quantity : 0)
            })
            .ToDictionaryAsync(b => b.EventId);
        var events = await db.Events.AsNoTracking().OrderBy(e => e.Id)
            .Select(e => new { e.Id, e.Name, e.Capacity, e.Status }).ToListAsync();
        return new Recount(events.Select(e => bookings.TryGetValue(e.Id, out var b)
            ? new RecountedEvent(e.Id, e.Name, e.Capacity, e.Status, b.Bookings, b.Cancellations, b.Tickets)
            : new RecountedEvent(e.Id, e.Name, e.Capacity, e.Status, 0, 0, 0)).ToList());
    }
}
