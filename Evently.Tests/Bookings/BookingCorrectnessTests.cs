using Evently.ApiService.Events;
using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;
using MySqlConnector;

namespace Evently.Tests.Bookings;

// Wrong answers found around the invariants: racing cancels, admin updates under load, idempotency keys,
// lost replies and stale cache fills. Each test failed before its fix.
[Collection(AppCollection.Name)]
public sealed class BookingCorrectnessTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task Racing_cancels_of_one_booking_all_answer_204_and_return_its_tickets_once()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        // Nothing else booked: a second return of the tickets would take Booked below 0.
        var evt = await admin.CreateEventAsync(capacity: 20);

        for (var round = 0; round < 10; round++)
        {
            var booking = await user.BookAsync(evt.Id, 2).BookedAsync();

            var cancels = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
                (i % 2 == 0 ? user : admin).Http.DeleteAsync($"/api/bookings/{booking.Id}")));

            Assert.All(cancels, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
            await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 0);
        }
    }

    [Fact]
    public async Task A_booking_cancel_racing_the_event_cancel_answers_204()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();

        for (var round = 0; round < 10; round++)
        {
            var evt = await admin.CreateEventAsync(capacity: 10);
            var booking = await user.BookAsync(evt.Id, 2).BookedAsync();

            var answers = await Task.WhenAll(
                user.Http.DeleteAsync($"/api/bookings/{booking.Id}"),
                admin.Http.DeleteAsync($"/api/events/{evt.Id}"),
                user.Http.DeleteAsync($"/api/bookings/{booking.Id}"));

            Assert.All(answers, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
            Assert.Equal("cancelled", (await user.Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{booking.Id}"))!.Status);
            // The rows follow: at once when a booking's cancel came first, from the worker's cascade when the event's did.
            await WaitlistTestApi.EventuallyAsync(async () =>
            {
                await using var db = fixture.CreateDbContext();
                var stored = await db.Events.AsNoTracking().SingleAsync(e => e.Id == evt.Id);
                return (stored.Status, stored.Booked) == (EventStatus.Cancelled, 0)
                    && (await db.Bookings.SingleAsync(b => b.Id == booking.Id)).Status == BookingStatus.Cancelled;
            }, TimeSpan.FromSeconds(30), "the event and its booking cancelled in the database");
        }
    }

    [Fact]
    public async Task An_admin_can_raise_capacity_while_the_event_sells()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 100_000);
        var evt = await admin.CreateEventAsync(body);
        var bookers = (await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => fixture.NewUserAsync()))).ToList();
        using var selling = new CancellationTokenSource();

        var load = bookers.Select(async booker =>
        {
            while (!selling.IsCancellationRequested)
            {
                await booker.BookAsync(evt.Id, 1);
            }
        }).ToList();
        var updates = new List<HttpStatusCode>();
        for (var raise = 1; raise <= 25; raise++)
        {
            var capacity = 100_000 + raise;
            var response = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "capacity", capacity));
            updates.Add(response.StatusCode);
        }
        await selling.CancelAsync();
        await Task.WhenAll(load);

        Assert.All(updates, status => Assert.Equal(HttpStatusCode.OK, status));
        var after = await fixture.ReadEventAsync(evt.Id);
        Assert.Equal(100_025, after.Capacity);
        Assert.True(after.Booked > 0, "the bookings ran during the updates");
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: after.Booked);
        bookers.ForEach(b => b.Dispose());
    }

    [Fact]
    public async Task Idempotency_keys_that_differ_only_in_case_are_two_keys()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var first = await admin.CreateEventAsync(capacity: 10);
        var second = await admin.CreateEventAsync(capacity: 10);

        var one = await user.BookAsync(first.Id, 1, idempotencyKey: "Key-abc").BookedAsync();
        var other = await user.BookAsync(second.Id, 1, idempotencyKey: "key-ABC").BookedAsync();

        Assert.NotEqual(one.Id, other.Id);
        Assert.Equal(one.Id, (await user.BookAsync(first.Id, 1, idempotencyKey: "Key-abc").BookedAsync()).Id);
    }

    [Fact]
    public async Task A_retried_booking_is_recognised_after_its_seats_were_changed()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 6,
            seating: new { sections = new[] { new { name = "Row", rows = 1, seatsPerRow = 6 } } });
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!.Select(s => s.Id).ToList();
        var key = Guid.NewGuid().ToString();
        var booking = await user.PostBookingAsync(new { eventId = evt.Id, seatIds = new[] { seats[0], seats[1] } }, key).BookedAsync();
        var changed = await user.Http.PostAsJsonAsync($"/api/bookings/{booking.Id}/seats", new { seatIds = new[] { seats[4], seats[5] } });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        var retried = await user.PostBookingAsync(new { eventId = evt.Id, seatIds = new[] { seats[1], seats[0] } }, key).BookedAsync();

        Assert.Equal(booking.Id, retried.Id);
        Assert.Equal([seats[4], seats[5]], retried.Seats.Select(s => s.Id).Order());
        var reused = await user.PostBookingAsync(new { eventId = evt.Id, seatIds = new[] { seats[4], seats[5] } }, key);
        Assert.Equal("idempotency-key-reused", (await reused.ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Code());
    }

    [Fact]
    public async Task A_reply_lost_after_the_commit_does_not_book_twice()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 10);
        await using var direct = ProxiedBookings.Start(fixture);

        // No Idempotency-Key: only the attempt's own token can tell that the first try committed.
        direct.Proxy.CutReplyToNext("START TRANSACTION");
        var result = await direct.Bookings.HandleAsync(new BookingCommand(user.User.Id, evt.Id, 2, null, null), CancellationToken.None);

        Assert.True(direct.Proxy.Cut.IsCompleted,
            $"the reply to the booking's batch was lost (the booking answered {(result.Succeeded ? "a booking" : result.Error!.Code)})");
        Assert.True(result.Succeeded, result.Error?.Message);
        await using var check = fixture.CreateDbContext();
        var made = await check.Bookings.Where(b => b.EventId == evt.Id).ToListAsync();
        Assert.Equal(result.Value!.Booking!.Id, Assert.Single(made).Id);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2);
    }

    [Fact]
    public async Task A_booking_cut_off_while_it_waits_for_the_event_row_answers_the_booking_its_first_try_made()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 1);
        await using var direct = ProxiedBookings.Start(fixture);
        // Another transaction holds the event's row, so the booking's one-round-trip batch waits for it on the server.
        await using var holder = new MySqlConnection(fixture.DatabaseConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await new MySqlCommand($"SELECT Id FROM events WHERE Id = {evt.Id} FOR UPDATE", holder, hold).ExecuteScalarAsync();

        // The first try's connection is cut while its batch waits (the proxy sees no reply for 300 ms): the server
        // keeps the batch, COMMIT included, and runs it once the row is free. The retry's batch queues behind it, and
        // may only find the ticket gone, to the very booking it was asked to make.
        direct.Proxy.CutReplyToNext("START TRANSACTION");
        var booking = direct.Bookings.HandleAsync(new BookingCommand(user.User.Id, evt.Id, 1, null, null), CancellationToken.None);
        await direct.Proxy.Cut.WaitAsync(TimeSpan.FromSeconds(10));
        var cutAt = DateTime.UtcNow;
        await Task.Delay(500);
        await hold.CommitAsync();
        var result = await booking;

        Assert.True(result.Succeeded, result.Error?.Code);
        await using var check = fixture.CreateDbContext();
        var made = Assert.Single(await check.Bookings.Where(b => b.EventId == evt.Id).ToListAsync());
        Assert.Equal(made.Id, result.Value!.Booking!.Id);
        Assert.True(made.CreatedAt < cutAt, "the first try, cut off, wrote the booking (the retry's would be stamped later)");
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
    }

    // The direct path's booking command on a connection of its own through a proxy that can lose a reply.
    private sealed class ProxiedBookings : IAsyncDisposable
    {
        private readonly EventlyDbContext _db;
        private readonly ServiceProvider _services;
        private readonly AsyncServiceScope _scope;

        private ProxiedBookings(ReplyCuttingProxy proxy, EventlyDbContext db)
        {
            (Proxy, _db) = (proxy, db);
            _services = new ServiceCollection().AddMetrics().AddSingleton(TimeProvider.System).AddSingleton<BookingMetrics>()
                .AddScoped(_ => db).AddBookingCommands().BuildServiceProvider();
            _scope = _services.CreateAsyncScope();
            Bookings = _scope.ServiceProvider.GetRequiredService<BookTickets>();
        }

        public ReplyCuttingProxy Proxy { get; }

        public BookTickets Bookings { get; }

        public static ProxiedBookings Start(EventlyAppFixture fixture)
        {
            var database = new MySqlConnectionStringBuilder(fixture.DatabaseConnectionString);
            var proxy = new ReplyCuttingProxy(database.Server, (int)database.Port);
            database.Port = (uint)proxy.Port;
            database.Pooling = false;
            return new ProxiedBookings(proxy, fixture.CreateDbContext(database.ConnectionString));
        }

        public async ValueTask DisposeAsync()
        {
            await _scope.DisposeAsync();
            await _services.DisposeAsync();
            await _db.DisposeAsync();
            await Proxy.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_slow_read_never_caches_what_an_admin_change_replaced()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(name: $"Before {Guid.NewGuid():N}");
        var evt = await admin.CreateEventAsync(body);
        using var slow = new HttpRequestMessage(HttpMethod.Get, $"/api/events/{evt.Id}");
        slow.Headers.Add(EventReadsTestingOptions.DelayHeader, "1500");

        // The slow read takes its copy from the database, then the change commits, then the copy is stored.
        var slowRead = fixture.Api.SendAsync(slow);
        await Task.Delay(400);
        var renamed = $"After {Guid.NewGuid():N}";
        var update = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "name", renamed));
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        var stale = (await (await slowRead).Content.ReadFromJsonAsync<EventDto>())!;

        Assert.StartsWith("Before", stale.Name);
        Assert.Equal(renamed, (await fixture.ReadEventAsync(evt.Id)).Name);
        Assert.Equal(renamed, (await fixture.ReadEventAsync(evt.Id)).Name);
    }
}
