using Evently.Domain.Bookings;
using Evently.Domain.Waitlist;
using Evently.Tests.Bookings;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Waitlist;

// Tickets that come back while someone waits are held for the line in the very transaction that frees them: walk-ins
// racing for them, on any path, get nothing, even with no worker running to make the offers.
[Collection(AppCollection.Name)]
public sealed class WaitlistHoldsTests(EventlyAppFixture fixture)
{
    private async Task<(EventDto Event, Caller Holder, BookingDto Booking)> SoldOutAsync(Caller admin, object body)
    {
        var evt = await admin.CreateEventAsync(body);
        var holder = await fixture.NewUserAsync();
        return (evt, holder, await holder.BookAsync(evt.Id, evt.Capacity).BookedAsync());
    }

    private async Task<List<Caller>> UsersAsync(int count) => (await Task.WhenAll(Enumerable.Range(0, count).Select(_ => fixture.NewUserAsync()))).ToList();

    [Fact]
    public async Task A_cancel_holds_the_ticket_for_the_line_before_any_walk_in_can_book_it()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, booking) = await SoldOutAsync(admin, TestApi.NewEventBody(capacity: 1));
        using var _ = holder;
        using var waiter = await fixture.NewUserAsync();
        var entry = await waiter.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var walkers = await UsersAsync(3);

        await using (await StoppedWorkers.StopAsync(fixture))
        {
            await using var race = WalkIns.Start(walkers, w => w.BookAsync(evt.Id, 1));
            await Task.Delay(300);
            Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
            Assert.Equal("offered", (await waiter.EntryAsync(entry.Id)).Status);
            await Task.Delay(300);
            await race.StopAsync();

            Assert.True(race.Attempts > 10, $"the walk-ins tried {race.Attempts} times");
            Assert.Empty(race.Booked);
            await waiter.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null).BookedAsync();
        }
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
        walkers.ForEach(w => w.Dispose());
    }

    [Fact]
    public async Task A_cancel_holds_the_ticket_against_queued_walk_ins_of_a_high_demand_event()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1, highDemand: true));
        using var holder = await fixture.NewUserAsync();
        var bought = await QueueTestApi.AnsweredAsync(holder, (await QueueTestApi.QueuedAsync(await holder.BookAsync(evt.Id, 1))).RequestId);
        using var waiter = await fixture.NewUserAsync();
        var entry = await waiter.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var walkers = await UsersAsync(3);
        WalkIns race;

        await using (await StoppedWorkers.StopAsync(fixture))
        {
            race = WalkIns.Start(walkers, w => w.BookAsync(evt.Id, 1));
            await Task.Delay(300);
            Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{bought.BookingId}")).StatusCode);
            Assert.Equal("offered", (await waiter.EntryAsync(entry.Id)).Status);
            await Task.Delay(300);
            await race.StopAsync();
            await waiter.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null).BookedAsync();
        }

        // The workers are back: every request the walk-ins queued, before and after the cancel, is answered, and none books.
        Assert.NotEmpty(race.Queued);
        foreach (var (walker, requestId) in race.Queued)
        {
            var answer = await QueueTestApi.AnsweredAsync(walker, requestId);
            Assert.Equal(("rejected", "sold-out"), (answer.Status, answer.Reason));
        }
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
        walkers.ForEach(w => w.Dispose());
    }

    [Fact]
    public async Task An_expired_offer_passes_to_the_next_in_line_in_the_same_transaction()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, booking) = await SoldOutAsync(admin, TestApi.NewEventBody(capacity: 1));
        using var _ = holder;
        using var first = await fixture.NewUserAsync();
        using var second = await fixture.NewUserAsync();
        var firstEntry = await first.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var secondEntry = await second.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var walkers = await UsersAsync(3);

        await using (await StoppedWorkers.StopAsync(fixture))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
            Assert.Equal("offered", (await first.EntryAsync(firstEntry.Id)).Status);
            await using var race = WalkIns.Start(walkers, w => w.BookAsync(evt.Id, 1));
            await Task.Delay(300);
            // An hour later by this clock: the offer is past its window, and expires as the worker would expire it.
            await using (var later = new ClockedServices(fixture, DateTimeOffset.UtcNow.AddHours(1)))
            {
                while ((await first.EntryAsync(firstEntry.Id)).Status == "offered")
                {
                    Assert.True(await later.Offers.ExpireNextOfferAsync(CancellationToken.None), "an offer past its window expires");
                }
            }
            Assert.Equal("offered", (await second.EntryAsync(secondEntry.Id)).Status);
            await Task.Delay(300);
            await race.StopAsync();

            Assert.Equal("expired", (await first.EntryAsync(firstEntry.Id)).Status);
            Assert.Empty(race.Booked);
            await second.Http.PostAsync($"/api/waitlist/{secondEntry.Id}/claim", null).BookedAsync();
        }
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
        walkers.ForEach(w => w.Dispose());
    }

    [Fact]
    public async Task An_offer_given_up_passes_to_the_next_in_line_in_the_same_transaction()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, booking) = await SoldOutAsync(admin, TestApi.NewEventBody(capacity: 1));
        using var _ = holder;
        using var first = await fixture.NewUserAsync();
        using var second = await fixture.NewUserAsync();
        var firstEntry = await first.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var secondEntry = await second.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var walkers = await UsersAsync(3);

        await using (await StoppedWorkers.StopAsync(fixture))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
            await using var race = WalkIns.Start(walkers, w => w.BookAsync(evt.Id, 1));
            await Task.Delay(300);
            Assert.Equal(HttpStatusCode.NoContent, (await first.Http.DeleteAsync($"/api/waitlist/{firstEntry.Id}")).StatusCode);
            Assert.Equal("offered", (await second.EntryAsync(secondEntry.Id)).Status);
            await Task.Delay(300);
            await race.StopAsync();

            Assert.Empty(race.Booked);
            await second.Http.PostAsync($"/api/waitlist/{secondEntry.Id}/claim", null).BookedAsync();
        }
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
        walkers.ForEach(w => w.Dispose());
    }

    [Fact]
    public async Task A_capacity_raised_goes_to_the_line_before_it_goes_on_sale()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 1);
        var (evt, holder, _) = await SoldOutAsync(admin, body);
        using var __ = holder;
        using var waiter = await fixture.NewUserAsync();
        var entry = await waiter.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var walkers = await UsersAsync(3);

        await using (await StoppedWorkers.StopAsync(fixture))
        {
            await using var race = WalkIns.Start(walkers, w => w.BookAsync(evt.Id, 1));
            await Task.Delay(300);
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "capacity", 2))).StatusCode);
            Assert.Equal("offered", (await waiter.EntryAsync(entry.Id)).Status);
            await Task.Delay(300);
            await race.StopAsync();

            Assert.Empty(race.Booked);
            await waiter.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null).BookedAsync();
        }
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2);
        walkers.ForEach(w => w.Dispose());
    }

    [Fact]
    public async Task A_ticket_back_goes_to_the_first_entry_it_fits_however_long_the_line_ahead_of_it()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, booking) = await SoldOutAsync(admin, TestApi.NewEventBody(capacity: 1));
        using var _ = holder;
        // 600 people ahead in line, each waiting for two tickets (written set-based: 600 joins through the API take long).
        await using (var connection = new MySqlConnector.MySqlConnection(fixture.DatabaseConnectionString))
        {
            await connection.OpenAsync();
            var run = Guid.NewGuid().ToString("N")[..12];
            await new MySqlConnector.MySqlCommand($"""
                INSERT INTO users (Email, NormalizedEmail, Name, PasswordHash, Role, CreatedAt)
                  SELECT CONCAT('pair-{run}-', seq, '@example.com'), CONCAT('PAIR-{run}-', seq, '@EXAMPLE.COM'), 'Pair', '-', 'user', UTC_TIMESTAMP(6)
                  FROM seq_1_to_600;
                INSERT INTO waitlist_entries (EventId, UserId, Quantity, Status, Active, CreatedAt)
                  SELECT {evt.Id}, Id, 2, 'Waiting', TRUE, UTC_TIMESTAMP(6) FROM users WHERE Email LIKE 'pair-{run}-%' ORDER BY Id;
                """, connection).ExecuteNonQueryAsync();
        }
        using var single = await fixture.NewUserAsync();
        var entry = await single.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        Assert.Equal(601, entry.Position);

        Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);

        Assert.Equal("offered", (await single.EntryAsync(entry.Id)).Status);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 0);
    }

    [Fact]
    public async Task On_a_seated_event_the_seats_freed_are_the_seats_held_and_claimed()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 4,
            seating: new { sections = new[] { new { name = "Box", rows = 1, seatsPerRow = 4 } } }));
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!.Select(s => s.Id).ToList();
        using var holder = await fixture.NewUserAsync();
        using var other = await fixture.NewUserAsync();
        var freed = await holder.BookSeatsAsync(evt.Id, [seats[1], seats[3]]).BookedAsync();
        await other.BookSeatsAsync(evt.Id, [seats[0], seats[2]]).BookedAsync();
        using var waiter = await fixture.NewUserAsync();
        var entry = await waiter.JoinWaitlistAsync(evt.Id, 2).JoinedAsync();
        var walkers = await UsersAsync(3);

        await using (await StoppedWorkers.StopAsync(fixture))
        {
            await using var race = WalkIns.Start(walkers, w => w.BookSeatsAsync(evt.Id, [seats[1]]));
            await Task.Delay(300);
            Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{freed.Id}")).StatusCode);
            Assert.Equal("offered", (await waiter.EntryAsync(entry.Id)).Status);
            await Task.Delay(300);
            await race.StopAsync();

            Assert.Empty(race.Booked);
            var map = await fixture.ReadSeatsOnceFreshAsync(evt.Id, m => m.Count(s => s.Status == "held") == 2);
            Assert.Equal([seats[1], seats[3]], map.Where(s => s.Status == "held").Select(s => s.Id).Order());
            var claimed = await waiter.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null).BookedAsync();
            Assert.Equal([seats[1], seats[3]], claimed.Seats.Select(s => s.Id).Order());
        }
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 4);
        walkers.ForEach(w => w.Dispose());
    }

    [Fact]
    public async Task Two_hundred_rounds_of_cancels_claims_expiries_and_leaves_never_let_a_walk_in_past_the_line()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 3));
        var holders = await UsersAsync(3);
        var bookings = new List<(Caller Who, long Id)>();
        foreach (var holder in holders)
        {
            bookings.Add((holder, (await holder.BookAsync(evt.Id, 1).BookedAsync()).Id));
        }
        var waiters = await UsersAsync(3);
        var entries = new Dictionary<Caller, long>();
        foreach (var waiter in waiters)
        {
            entries[waiter] = (await waiter.JoinWaitlistAsync(evt.Id, 1).JoinedAsync()).Id;
        }
        // Two shifts of three, so that no account meets the fixture's rate limit.
        var walkers = await UsersAsync(6);
        var random = new Random(20);
        await using var later = new ClockedServices(fixture, DateTimeOffset.UtcNow.AddHours(1));
        await using var db = fixture.CreateDbContext();
        var pastTheLine = new List<string>();

        for (var round = 0; round < 200; round++)
        {
            var waiter = waiters[random.Next(waiters.Count)];
            var action = random.Next(5);
            switch (action)
            {
                case 0 when bookings.Count > 0:
                    var (who, id) = bookings[random.Next(bookings.Count)];
                    bookings.RemoveAll(b => b.Id == id);
                    Assert.Equal(HttpStatusCode.NoContent, (await who.Http.DeleteAsync($"/api/bookings/{id}")).StatusCode);
                    break;
                case 1:
                    var claim = await waiter.Http.PostAsync($"/api/waitlist/{entries[waiter]}/claim", null);
                    if (claim.StatusCode == HttpStatusCode.Created)
                    {
                        bookings.Add((waiter, (await claim.Content.ReadFromJsonAsync<BookingDto>())!.Id));
                    }
                    break;
                case 2:
                    await later.Offers.ExpireNextOfferAsync(CancellationToken.None);
                    break;
                case 3:
                    await waiter.Http.DeleteAsync($"/api/waitlist/{entries[waiter]}");
                    break;
                default:
                    if (await waiter.JoinWaitlistAsync(evt.Id, 1) is { StatusCode: HttpStatusCode.Created } joined)
                    {
                        entries[waiter] = (await joined.Content.ReadFromJsonAsync<WaitlistEntryDto>())!.Id;
                    }
                    break;
            }

            // Right after each step, walk-ins try at once: while anyone waits, no ticket may be theirs.
            var waiting = await db.WaitlistEntries.CountAsync(w => w.EventId == evt.Id && w.Status == WaitlistStatus.Waiting);
            var shift = walkers.Skip(round % 2 * 3).Take(3).ToList();
            var tries = await Task.WhenAll(shift.Select(w => w.BookAsync(evt.Id, 1)));
            foreach (var (walker, response) in shift.Zip(tries).Where(t => t.Second.StatusCode == HttpStatusCode.Created))
            {
                bookings.Add((walker, (await response.Content.ReadFromJsonAsync<BookingDto>())!.Id));
                if (waiting > 0)
                {
                    pastTheLine.Add($"round {round} (action {action}): a walk-in booked while {waiting} waited");
                }
            }
        }

        Assert.Empty(pastTheLine);
        var row = await db.Events.AsNoTracking().SingleAsync(e => e.Id == evt.Id);
        var offered = await db.WaitlistEntries.Where(w => w.EventId == evt.Id && w.Status == WaitlistStatus.Offered).SumAsync(w => w.Quantity);
        var confirmed = await db.Bookings.Where(b => b.EventId == evt.Id && b.Status == BookingStatus.Confirmed).SumAsync(b => b.Quantity);
        Assert.Equal((offered, confirmed), (row.Held, row.Booked));
        Assert.InRange(row.Booked + row.Held, 0, row.Capacity);
        holders.Concat(waiters).Concat(walkers).ToList().ForEach(u => u.Dispose());
    }
}

/// <summary>Accounts that loop a booking request until stopped, as bots polling for a ticket would; what each got is kept.</summary>
public sealed class WalkIns : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loops;
    private readonly System.Collections.Concurrent.ConcurrentBag<long> _booked = [];
    private readonly System.Collections.Concurrent.ConcurrentBag<(Caller, long)> _queued = [];
    private int _attempts;

    private WalkIns(IReadOnlyList<Caller> callers, Func<Caller, Task<HttpResponseMessage>> book, TimeSpan pause) =>
        _loops = Task.WhenAll(callers.Select(caller => Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var response = await book(caller);
                Interlocked.Increment(ref _attempts);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    _booked.Add((await response.Content.ReadFromJsonAsync<BookingDto>())!.Id);
                }
                else if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    _queued.Add((caller, (await response.Content.ReadFromJsonAsync<QueuedRequestDto>())!.RequestId));
                }
                // Below the fixture's rate limit per account, so that every try reaches the booking code.
                await Task.Delay(pause);
            }
        })));

    /// <param name="pause">Between two tries of one account: below the fixture's rate limit per account by default.</param>
    public static WalkIns Start(IReadOnlyList<Caller> callers, Func<Caller, Task<HttpResponseMessage>> book, TimeSpan? pause = null) =>
        new(callers, book, pause ?? TimeSpan.FromMilliseconds(20));

    public int Attempts => Volatile.Read(ref _attempts);
    public IReadOnlyCollection<long> Booked => _booked;
    public IReadOnlyCollection<(Caller Caller, long RequestId)> Queued => _queued;

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loops;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
