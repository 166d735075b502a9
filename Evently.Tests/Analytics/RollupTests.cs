using Evently.Domain.Analytics;
using Evently.Domain.Bookings;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Analytics;

// The rollups that the analytics read (the day rows, and each event's Booked, BookingsMade and BookingsCancelled)
// must equal a recount of the bookings table after anything: racing
// bookings of every kind (direct, seats, queued, waitlist claims), racing cancels of one booking, and an
// event cancelled while its bookings are being cancelled and made.
[Collection(AppCollection.Name)]
public sealed class RollupTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task After_a_race_of_bookings_and_cancels_the_rollups_equal_a_recount()
    {
        using var admin = await fixture.AdminAsync();
        var plain = await admin.CreateEventAsync(capacity: 40);
        var doomed = await admin.CreateEventAsync(capacity: 60);
        var seated = await admin.CreateEventAsync(capacity: 10, seating: new { sections = new[] { new { name = "Row", rows = 2, seatsPerRow = 5 } } });
        var queued = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 15, highDemand: true));
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{seated.Id}/seats"))!;
        var users = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => fixture.NewUserAsync()));

        // Every kind of booking at once; some are refused (sold out, seat taken), which must count nowhere.
        var made = await Task.WhenAll(users.Select(async (user, i) => new
        {
            User = user,
            Plain = await user.BookAsync(plain.Id, 1 + i % 4),
            Doomed = await user.BookAsync(doomed.Id, 2),
            Seat = await user.BookSeatsAsync(seated.Id, [seats[(i * 7) % seats.Count].Id]),
            Queued = await user.BookAsync(queued.Id, 1 + i % 2)
        }));
        var plainBookings = await BookingsOfAsync(made.Select(m => (m.User, m.Plain)));
        var doomedBookings = await BookingsOfAsync(made.Select(m => (m.User, m.Doomed)));

        // Cancels racing each other (each booking twice at once), the event's cancel racing its bookings'
        // cancels and new bookings, and bookings racing the cancels that free their tickets.
        await Task.WhenAll(
            plainBookings.SelectMany(b => new[] { b.User.Http.DeleteAsync($"/api/bookings/{b.Booking.Id}"), b.User.Http.DeleteAsync($"/api/bookings/{b.Booking.Id}") })
                .Concat(doomedBookings.Take(4).Select(b => b.User.Http.DeleteAsync($"/api/bookings/{b.Booking.Id}")))
                .Concat(users.Take(4).Select(u => u.BookAsync(doomed.Id, 1)))
                .Concat(users.Skip(4).Select(u => u.BookAsync(plain.Id, 3)))
                .Append(admin.Http.DeleteAsync($"/api/events/{doomed.Id}")));

        // A waitlist offer claimed: a booking made by the claim path.
        var small = await admin.CreateEventAsync(capacity: 1);
        var holder = await users[0].BookAsync(small.Id, 1).BookedAsync();
        var entry = await users[1].JoinWaitlistAsync(small.Id, 1).JoinedAsync();
        await users[0].Http.DeleteAsync($"/api/bookings/{holder.Id}");
        await WaitlistTestApi.EventuallyAsync(async () => (await users[1].EntryAsync(entry.Id)).Status == "offered",
            TimeSpan.FromSeconds(10), "the offer");
        Assert.Equal(HttpStatusCode.Created, (await users[1].Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null)).StatusCode);

        // Every queued request answered.
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            await using var db = fixture.CreateDbContext();
            return await db.BookingRequests.CountAsync(r => r.EventId == queued.Id && r.Status != BookingRequestStatus.Queued) == users.Length;
        }, TimeSpan.FromSeconds(30), "the queue's answers");

        await AnalyticsTestApi.StableAsync(async () =>
        {
            var recount = await RecountAsync();
            var rollups = await RollupsAsync();
            if (recount != await RecountAsync())
            {
                return false;
            }
            Assert.Equal(recount.Days, rollups.Days);
            Assert.Equal(recount.Events, rollups.Events);
            return true;
        });
    }

    private static async Task<List<(Caller User, BookingDto Booking)>> BookingsOfAsync(IEnumerable<(Caller User, HttpResponseMessage Response)> responses)
    {
        var bookings = new List<(Caller, BookingDto)>();
        foreach (var (user, response) in responses.Where(r => r.Response.StatusCode == HttpStatusCode.Created))
        {
            bookings.Add((user, (await response.Content.ReadFromJsonAsync<BookingDto>())!));
        }
        Assert.NotEmpty(bookings);
        return bookings;
    }

    private sealed record DayRow(DateOnly Day, int Shard, int Bookings, int Cancellations, int BookingsCancelled, int TicketsSold);
    private sealed record EventRow(long EventId, int Bookings, int Cancellations, int TicketsSold);

    private sealed record Tables(List<DayRow> Days, List<EventRow> Events)
    {
        public bool Equals(Tables? other) => other is not null && Days.SequenceEqual(other.Days) && Events.SequenceEqual(other.Events);
        public override int GetHashCode() => Days.Count;
    }

    private async Task<Tables> RollupsAsync()
    {
        await using var db = fixture.CreateDbContext();
        var days = await db.DailyBookingRollups.AsNoTracking().ToListAsync();
        var events = await db.Events.AsNoTracking().Where(e => e.BookingsMade > 0)
            .Select(e => new EventRow(e.Id, e.BookingsMade, e.BookingsCancelled, e.Booked)).ToListAsync();
        return new Tables(
            days.Select(d => new DayRow(d.Day, d.Shard, d.Bookings, d.Cancellations, d.BookingsCancelled, d.TicketsSold))
                .OrderBy(d => d.Day).ThenBy(d => d.Shard).ToList(),
            events.OrderBy(e => e.EventId).ToList());
    }

    // Every booking read into the test and counted here, by the rules the rollups keep, without any SQL of theirs.
    private async Task<Tables> RecountAsync()
    {
        await using var db = fixture.CreateDbContext();
        var bookings = await db.Bookings.AsNoTracking()
            .Select(b => new { b.EventId, b.Quantity, b.Status, b.CreatedAt, b.CancelledAt }).ToListAsync();
        var made = bookings.Select(b => (Day: DateOnly.FromDateTime(b.CreatedAt), b.EventId, Made: 1, Cancelled: 0,
            MadeCancelled: b.Status == BookingStatus.Cancelled ? 1 : 0, Tickets: b.Status == BookingStatus.Confirmed ? b.Quantity : 0));
        var cancelled = bookings.Where(b => b.Status == BookingStatus.Cancelled)
            .Select(b => (Day: DateOnly.FromDateTime(b.CancelledAt!.Value), b.EventId, Made: 0, Cancelled: 1, MadeCancelled: 0, Tickets: 0));
        var days = made.Concat(cancelled)
            .GroupBy(c => (c.Day, Shard: (int)(c.EventId % BookingRollup.Shards)))
            .Select(g => new DayRow(g.Key.Day, g.Key.Shard, g.Sum(c => c.Made), g.Sum(c => c.Cancelled), g.Sum(c => c.MadeCancelled), g.Sum(c => c.Tickets)))
            .OrderBy(d => d.Day).ThenBy(d => d.Shard).ToList();
        var events = bookings.GroupBy(b => b.EventId)
            .Select(g => new EventRow(g.Key, g.Count(), g.Count(b => b.Status == BookingStatus.Cancelled),
                g.Where(b => b.Status == BookingStatus.Confirmed).Sum(b => b.Quantity)))
            .OrderBy(e => e.EventId).ToList();
        return new Tables(days, events);
    }
}
