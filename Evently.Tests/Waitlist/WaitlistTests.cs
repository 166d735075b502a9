using Aspire.Hosting.Testing;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using StackExchange.Redis;
using Xunit.Abstractions;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Waitlist;

// The waitlist end to end: the API takes joins and claims and makes offers in the transaction that frees the tickets;
// the worker expires them after the fixture's short window and mails every notification.
[Collection(AppCollection.Name)]
public sealed class WaitlistTests(EventlyAppFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan OfferLatencyBound = TimeSpan.FromSeconds(3);

    private async Task<(EventDto Event, Caller Holder, BookingDto Booking)> SoldOutEventAsync(Caller admin, int capacity, object? seating = null)
    {
        var evt = await admin.CreateEventAsync(capacity: capacity, seating: seating);
        var holder = await fixture.NewUserAsync();
        var booking = seating is null
            ? await holder.BookAsync(evt.Id, capacity).BookedAsync()
            : await holder.BookSeatsAsync(evt.Id, (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!.Select(s => s.Id)).BookedAsync();
        return (evt, holder, booking);
    }

    [Fact]
    public async Task A_cancel_offers_the_tickets_to_the_head_of_the_line_who_is_notified_and_claims_them()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, booking) = await SoldOutEventAsync(admin, capacity: 2);
        using var _ = holder;
        using var waiter = await fixture.NewUserAsync("Wendy Waiter");
        using var other = await fixture.NewUserAsync();

        var entry = await waiter.JoinWaitlistAsync(evt.Id, 2).JoinedAsync();
        Assert.Equal((1, "waiting", (DateTime?)null), (entry.Position, entry.Status, entry.OfferExpiresAt));
        var again = await waiter.JoinWaitlistAsync(evt.Id, 1);
        Assert.Equal("already-waiting", (await again.ReadProblemAsync(HttpStatusCode.Conflict)).Code());
        var early = await waiter.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null);
        Assert.Equal("no-offer", (await early.ReadProblemAsync(HttpStatusCode.Conflict)).Code());

        Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
        var latency = await WaitlistTestApi.EventuallyAsync(async () => (await waiter.EntryAsync(entry.Id)).Status == "offered",
            OfferLatencyBound, "the offer");

        var offered = await waiter.EntryAsync(entry.Id);
        Assert.Equal(0, offered.Position);
        Assert.InRange(offered.OfferExpiresAt!.Value, DateTime.UtcNow, DateTime.UtcNow.AddSeconds(EventlyAppFixture.OfferSeconds + 1));
        // Held for the waiter: nobody else can book them.
        Assert.Equal("sold-out", (await (await other.BookAsync(evt.Id, 1)).ReadProblemAsync(HttpStatusCode.Conflict)).Code());
        Assert.Equal(0, (await fixture.ReadEventAsync(evt.Id)).Available);
        var offer = Assert.Single(await waiter.NotificationsAsync(), n => n.Kind == "waitlist-offer");
        Assert.Equal(evt.Id, offer.EventId);
        await WaitlistTestApi.EventuallyAsync(async () => (await fixture.MailsAsync()).Any(m => m.Contains(waiter.User.Email)),
            TimeSpan.FromSeconds(10), "the offer's mail");

        var claim = await waiter.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null);
        Assert.Equal(HttpStatusCode.Created, claim.StatusCode);
        var claimed = (await claim.Content.ReadFromJsonAsync<BookingDto>())!;
        Assert.Equal((evt.Id, 2, "confirmed"), (claimed.EventId, claimed.Quantity, claimed.Status));
        var repeat = await waiter.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null);
        Assert.Equal(claimed.Id, (await repeat.Content.ReadFromJsonAsync<BookingDto>())!.Id);
        Assert.Equal("booked", (await waiter.EntryAsync(entry.Id)).Status);
        Assert.Equal("not-waiting", (await (await waiter.Http.DeleteAsync($"/api/waitlist/{entry.Id}")).ReadProblemAsync(HttpStatusCode.Conflict)).Code());
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2);
        await AssertNoHeldTicketsAsync(evt.Id);

        Assert.Equal(HttpStatusCode.NoContent, (await waiter.Http.PostAsync($"/api/notifications/{offer.Id}/read", null)).StatusCode);
        Assert.NotNull(Assert.Single(await waiter.NotificationsAsync(), n => n.Id == offer.Id).ReadAt);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.PostAsync($"/api/notifications/{offer.Id}/read", null)).StatusCode);
        output.WriteLine($"cancel -> offer visible through the API: {latency.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_cancel_wakes_the_worker_only_when_it_made_an_offer_to_mail()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))!);
        var nudges = 0;
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(WorkChannel.Name), (_, message) =>
        {
            if (message == "work")
            {
                Interlocked.Increment(ref nudges);
            }
        });
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 2);
        using var holder = await fixture.NewUserAsync();
        using var waiter = await fixture.NewUserAsync();

        // Nobody waits: the cancel leaves the worker nothing to do. (A second long enough for a nudge from either replica.)
        var unwatched = await holder.BookAsync(evt.Id, 1).BookedAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{unwatched.Id}")).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(0, Volatile.Read(ref nudges));

        // Someone waits: the cancel's offer is a mail to send and an expiry to watch, and the worker is woken for them.
        var booking = await holder.BookAsync(evt.Id, 2).BookedAsync();
        await waiter.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
        await WaitlistTestApi.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref nudges) > 0), OfferLatencyBound, "the nudge");
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, Volatile.Read(ref nudges));
    }

    [Fact]
    public async Task Concurrent_joins_get_distinct_positions_that_shift_as_the_line_moves()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, _) = await SoldOutEventAsync(admin, capacity: 1);
        holder.Dispose();
        var users = (await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fixture.NewUserAsync()))).ToList();

        var joined = await Task.WhenAll(users.Select(u => u.JoinWaitlistAsync(evt.Id, 1).JoinedAsync()));

        Assert.Equal(Enumerable.Range(1, 20), joined.Select(e => e.Position).Order());
        var leaver = users[Array.FindIndex(joined, e => e.Position == 5)];
        Assert.Equal(HttpStatusCode.NoContent, (await leaver.Http.DeleteAsync($"/api/waitlist/{joined.Single(e => e.Position == 5).Id}")).StatusCode);
        var positions = await Task.WhenAll(users.Where(u => u != leaver).Select(async u =>
            (await u.Http.GetFromJsonAsync<PageDto<WaitlistEntryDto>>($"/api/waitlist?eventId={evt.Id}"))!.Items.Single().Position));
        Assert.Equal(Enumerable.Range(1, 19), positions.Order());
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task An_unclaimed_offer_expires_and_passes_to_the_next_in_line()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, booking) = await SoldOutEventAsync(admin, capacity: 1);
        using var _ = holder;
        using var first = await fixture.NewUserAsync();
        using var second = await fixture.NewUserAsync();
        var firstEntry = await first.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var secondEntry = await second.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();

        await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}");
        await WaitlistTestApi.EventuallyAsync(async () => (await first.EntryAsync(firstEntry.Id)).Status == "offered", OfferLatencyBound, "the first offer");
        Assert.Equal(1, (await second.EntryAsync(secondEntry.Id)).Position);

        await WaitlistTestApi.EventuallyAsync(async () => (await second.EntryAsync(secondEntry.Id)).Status == "offered",
            TimeSpan.FromSeconds(EventlyAppFixture.OfferSeconds + 5), "the second offer, after the first expired");

        Assert.Equal("expired", (await first.EntryAsync(firstEntry.Id)).Status);
        Assert.Contains(await first.NotificationsAsync(), n => n.Kind == "offer-expired" && n.EventId == evt.Id);
        var late = await first.Http.PostAsync($"/api/waitlist/{firstEntry.Id}/claim", null);
        Assert.Equal("offer-expired", (await late.ReadProblemAsync(HttpStatusCode.Conflict)).Code());
        Assert.Equal(HttpStatusCode.Created, (await second.Http.PostAsync($"/api/waitlist/{secondEntry.Id}/claim", null)).StatusCode);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
    }

    [Fact]
    public async Task On_a_seated_event_the_offer_holds_seats_that_the_claim_books()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, booking) = await SoldOutEventAsync(admin, capacity: 3,
            seating: new { sections = new[] { new { name = "Box", rows = 1, seatsPerRow = 3 } } });
        using var _ = holder;
        using var waiter = await fixture.NewUserAsync();
        var entry = await waiter.JoinWaitlistAsync(evt.Id, 2).JoinedAsync();

        await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}");
        await WaitlistTestApi.EventuallyAsync(async () => (await waiter.EntryAsync(entry.Id)).Status == "offered", OfferLatencyBound, "the offer");

        var seats = await fixture.ReadSeatsOnceFreshAsync(evt.Id, all => all.Count(s => s.Status == "held") == 2);
        var claimed = (await (await waiter.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null)).Content.ReadFromJsonAsync<BookingDto>())!;
        var heldIds = seats.Where(s => s.Status == "held").Select(s => s.Id).Order();
        Assert.Equal(heldIds, claimed.Seats.Select(s => s.Id).Order());
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2);
    }

    [Fact]
    public async Task Cancelling_an_event_tells_every_holder_in_the_app_and_by_mail()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 10);
        var holders = (await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => fixture.NewUserAsync()))).ToList();
        foreach (var holder in holders)
        {
            await holder.BookAsync(evt.Id, 2).BookedAsync();
        }

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);

        // The worker's batches tell them, right after the answer.
        foreach (var holder in holders)
        {
            await WaitlistTestApi.EventuallyAsync(async () => (await holder.NotificationsAsync()).Count(n => n.Kind == "event-cancelled" && n.EventId == evt.Id) == 1,
                TimeSpan.FromSeconds(5), "the holder's notice");
        }
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            var mails = await fixture.MailsAsync();
            return holders.All(h => mails.Any(m => m.Contains(h.User.Email)));
        }, TimeSpan.FromSeconds(10), "a mail to every holder");
        holders.ForEach(h => h.Dispose());
    }

    [Fact]
    public async Task Cancelling_an_event_closes_its_line_and_its_open_offers()
    {
        using var admin = await fixture.AdminAsync();
        var (evt, holder, booking) = await SoldOutEventAsync(admin, capacity: 2);
        using var _ = holder;
        using var offered = await fixture.NewUserAsync();
        using var waiting = await fixture.NewUserAsync();
        var offeredEntry = await offered.JoinWaitlistAsync(evt.Id, 2).JoinedAsync();
        var waitingEntry = await waiting.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}");
        await WaitlistTestApi.EventuallyAsync(async () => (await offered.EntryAsync(offeredEntry.Id)).Status == "offered", OfferLatencyBound, "the offer");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);

        await WaitlistTestApi.EventuallyAsync(async () => (await waiting.EntryAsync(waitingEntry.Id)).Status == "expired",
            TimeSpan.FromSeconds(5), "the line's close");
        Assert.Equal("expired", (await offered.EntryAsync(offeredEntry.Id)).Status);
        Assert.Equal("expired", (await waiting.EntryAsync(waitingEntry.Id)).Status);
        Assert.Contains(await waiting.NotificationsAsync(), n => n.Kind == "event-cancelled" && n.EventId == evt.Id);
        // Nothing is left to give back: leaving or claiming is refused, not a 500.
        Assert.Equal("not-waiting", (await (await offered.Http.DeleteAsync($"/api/waitlist/{offeredEntry.Id}")).ReadProblemAsync(HttpStatusCode.Conflict)).Code());
        await (await offered.Http.PostAsync($"/api/waitlist/{offeredEntry.Id}/claim", null)).ReadProblemAsync(HttpStatusCode.NotFound);
        await using var db = fixture.CreateDbContext();
        Assert.Equal((0, 0), await db.Events.Where(e => e.Id == evt.Id).Select(e => ValueTuple.Create(e.Booked, e.Held)).SingleAsync());
    }

    [Fact]
    public async Task An_admin_moving_an_event_tells_its_holders()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 10);
        var evt = await admin.CreateEventAsync(body);
        using var holder = await fixture.NewUserAsync();
        await holder.BookAsync(evt.Id, 1).BookedAsync();

        var moved = TestApi.With(body, "venue", "The Other Hall");
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", moved)).StatusCode);

        await WaitlistTestApi.EventuallyAsync(async () => (await holder.NotificationsAsync()).Any(n => n.Kind == "event-changed"),
            TimeSpan.FromSeconds(5), "the holder's notice");
        var changed = Assert.Single(await holder.NotificationsAsync(), n => n.Kind == "event-changed");
        Assert.Contains("The Other Hall", changed.Message);
    }

    [Fact]
    public async Task Bad_waitlist_requests_answer_4xx_and_change_nothing()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        using var stranger = await fixture.NewUserAsync();
        var open = await admin.CreateEventAsync(capacity: 5);
        var (soldOut, holder, _) = await SoldOutEventAsync(admin, capacity: 1);
        using var __ = holder;

        Assert.Equal("not-sold-out", (await (await user.JoinWaitlistAsync(open.Id, 1)).ReadProblemAsync(HttpStatusCode.Conflict)).Code());
        await (await user.JoinWaitlistAsync(987654321, 1)).ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.NotEmpty((await (await user.JoinWaitlistAsync(soldOut.Id, 0)).ReadProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("quantity"));
        Assert.NotEmpty((await (await user.JoinWaitlistAsync(soldOut.Id, 11)).ReadProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("quantity"));
        var entry = await user.JoinWaitlistAsync(soldOut.Id, 1).JoinedAsync();

        await (await stranger.Http.PostAsync($"/api/waitlist/{entry.Id}/claim", null)).ReadProblemAsync(HttpStatusCode.NotFound);
        await (await stranger.Http.DeleteAsync($"/api/waitlist/{entry.Id}")).ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await user.Http.DeleteAsync($"/api/waitlist/{entry.Id}")).StatusCode);
        // Leaving again (a client's retry whose first answer was lost) is 204 and changes nothing.
        Assert.Equal(HttpStatusCode.NoContent, (await user.Http.DeleteAsync($"/api/waitlist/{entry.Id}")).StatusCode);
        Assert.Equal("left", (await user.EntryAsync(entry.Id)).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{soldOut.Id}")).StatusCode);
        await (await user.JoinWaitlistAsync(soldOut.Id, 1)).ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Api.GetAsync("/api/waitlist")).StatusCode);
    }

    private async Task AssertNoHeldTicketsAsync(long eventId)
    {
        await using var db = fixture.CreateDbContext();
        var evt = await db.Events.AsNoTracking().SingleAsync(e => e.Id == eventId);
        var offered = await db.WaitlistEntries.Where(w => w.EventId == eventId && w.Status == WaitlistStatus.Offered).SumAsync(w => w.Quantity);
        Assert.Equal(offered, evt.Held);
    }
}
