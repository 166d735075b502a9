using System.Collections.Concurrent;
using Aspire.Hosting.Testing;
using Evently.Domain.Bookings;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Evently.Tests.Bookings;

public sealed record WaitingRequestDto(
    long RequestId, long EventId, int Quantity, string Status, long? Position, long? BookingId, string? Reason,
    int? EstimatedWaitSeconds, DateTime? OpensAt);

// The on-sale's waiting room: before salesStartAt a normal event refuses bookings and a high-demand event takes one
// request per account into its pre-queue, shuffled once at the opening and placed ahead of everyone who comes later.
[Collection(AppCollection.Name)]
public sealed class WaitingRoomTests(EventlyAppFixture fixture)
{
    private static DateTime OpensIn(TimeSpan delay)
    {
        var at = DateTime.UtcNow + delay;
        return new DateTime(at.Ticks - at.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
    }

    private static object Body(int capacity, DateTime? salesStartAt, bool highDemand) =>
        TestApi.With(TestApi.NewEventBody(capacity: capacity, highDemand: highDemand), "salesStartAt", salesStartAt!);

    private static async Task<WaitingRequestDto> QueuedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<WaitingRequestDto>())!;
    }

    private static async Task UntilAsync(DateTime at)
    {
        if (at - DateTime.UtcNow is { Ticks: > 0 } wait)
        {
            await Task.Delay(wait);
        }
    }

    [Fact]
    public async Task Before_the_sale_opens_a_normal_event_answers_409_not_on_sale_with_the_time_then_books()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 5);
        var late = await admin.Http.PostAsJsonAsync("/api/events", TestApi.With(body, "salesStartAt", DateTime.UtcNow.Date.AddDays(31)));
        Assert.NotEmpty((await late.ReadProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("salesStartAt"));
        // An hour away, brought forward by the admin once the early booking was refused: no race with the clock, however
        // long a cold app takes to make the user and answer.
        var opens = OpensIn(TimeSpan.FromHours(1));
        var evt = await admin.CreateEventAsync(TestApi.With(body, "salesStartAt", opens));
        using var user = await fixture.NewUserAsync();

        var read = await fixture.Api.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/events/{evt.Id}");
        Assert.Equal(opens, read.GetProperty("salesStartAt").GetDateTime());
        var early = await user.BookAsync(evt.Id, 1, Guid.NewGuid().ToString());
        var problem = await early.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("not-on-sale", problem.Code());
        Assert.Equal(opens, problem.GetProperty("salesStartAt").GetDateTime());

        var opensSoon = OpensIn(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "salesStartAt", opensSoon))).StatusCode);
        await UntilAsync(opensSoon.AddMilliseconds(50));
        Assert.Equal(HttpStatusCode.Created, (await user.BookAsync(evt.Id, 1)).StatusCode);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
    }

    // The database has the last word on the opening, as on capacity: a replica whose cached facts missed the admin's move
    // (on a Redis of its own, it never hears of it) refuses as the others do, rather than sell before the opening.
    [Fact]
    public async Task A_replica_that_missed_the_opening_moving_later_refuses_a_booking_before_it()
    {
        await using var ownRedis = await RedisServerProcess.StartAsync("no", "everysec");
        await using var unaware = await ServiceProcess.StartApiAsync(fixture, redis: ownRedis.ConnectionString + ",abortConnect=false");
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 5);
        var evt = await admin.CreateEventAsync(body);
        using var member = await fixture.NewUserAsync();
        using var user = unaware.As(member);
        await user.BookAsync(evt.Id, 1).BookedAsync();

        var opens = OpensIn(TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "salesStartAt", opens))).StatusCode);
        var early = await user.BookAsync(evt.Id, 1);

        var problem = await early.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(("not-on-sale", opens), (problem.Code(), problem.GetProperty("salesStartAt").GetDateTime()));
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
    }

    [Fact]
    public async Task An_opening_the_admin_moves_earlier_opens_the_pre_queue_then_without_another_request()
    {
        var buyers = await fixture.SeedAccountsAsync(3);
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 10, highDemand: true);
        var evt = await admin.CreateEventAsync(TestApi.With(body, "salesStartAt", OpensIn(TimeSpan.FromHours(1))));
        var queued = await Task.WhenAll(buyers.Select(async b => await QueuedAsync(await b.BookAsync(evt.Id, 1))));

        var opens = OpensIn(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "salesStartAt", opens))).StatusCode);

        // Nobody asks again: the queue learns the new time from the change itself.
        await using var db = fixture.CreateDbContext();
        await WaitlistTestApi.EventuallyAsync(
            async () => await db.BookingRequests.CountAsync(r => r.EventId == evt.Id && r.Status == BookingRequestStatus.Confirmed) == queued.Length,
            TimeSpan.FromSeconds(8), "the pre-queue confirmed after the new opening");
        var first = await db.BookingRequests.AsNoTracking().Where(r => r.EventId == evt.Id).MinAsync(r => r.ProcessedAt);
        Assert.True(first >= opens, $"answered at {first:O}, before the opening at {opens:O}");
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: queued.Length);
        buyers.ForEach(b => b.Dispose());
    }

    [Fact]
    public async Task A_cancelled_events_pre_queue_is_answered_at_once_not_at_its_opening()
    {
        var buyers = await fixture.SeedAccountsAsync(3);
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(Body(capacity: 10, OpensIn(TimeSpan.FromHours(1)), highDemand: true));
        var queued = await Task.WhenAll(buyers.Select(async b => await QueuedAsync(await b.BookAsync(evt.Id, 1))));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);

        // The buyers waiting for the opening learn now that there will be none, not in an hour.
        await using var db = fixture.CreateDbContext();
        await WaitlistTestApi.EventuallyAsync(
            async () => await db.BookingRequests.CountAsync(r => r.EventId == evt.Id && r.Status == BookingRequestStatus.Rejected) == queued.Length,
            TimeSpan.FromSeconds(8), "the pre-queue rejected after the cancel");
        var answer = await buyers[0].Http.GetFromJsonAsync<WaitingRequestDto>($"/api/bookings/requests/{queued[0].RequestId}");
        Assert.Equal(("rejected", "event-cancelled"), (answer!.Status, answer.Reason));
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 0);
        buyers.ForEach(b => b.Dispose());
    }

    [Fact]
    public async Task The_pre_queue_is_shuffled_once_at_the_opening_and_served_before_everyone_who_came_later()
    {
        const int Early = 300, Later = 100, Tickets = 150, Wave = 25;
        var buyers = await fixture.SeedAccountsAsync(Early + Later);
        using var admin = await fixture.AdminAsync();
        var opens = OpensIn(TimeSpan.FromSeconds(8));
        var evt = await admin.CreateEventAsync(Body(Tickets, opens, highDemand: true));

        // Arrival order, known to the test wave by wave: FIFO would confirm exactly the first waves.
        var early = new List<WaitingRequestDto>();
        for (var wave = 0; wave < Early / Wave; wave++)
        {
            early.AddRange(await Task.WhenAll(buyers.Skip(wave * Wave).Take(Wave).Select(async b => await QueuedAsync(await b.BookAsync(evt.Id, 1)))));
        }
        Assert.All(early, r => Assert.Equal(("queued", null, opens), (r.Status, r.Position, r.OpensAt)));
        // One request per account before the opening: a second one answers the first.
        var again = await QueuedAsync(await buyers[0].BookAsync(evt.Id, 2));
        Assert.Equal((early[0].RequestId, 1), (again.RequestId, again.Quantity));
        Assert.True(DateTime.UtcNow < opens, "the pre-queue took longer to fill than the test allows before the opening");

        await UntilAsync(opens.AddMilliseconds(100));
        var later = await Task.WhenAll(buyers.Skip(Early).Select(async b => await QueuedAsync(await b.BookAsync(evt.Id, 1))));

        await using var db = fixture.CreateDbContext();
        await WaitlistTestApi.EventuallyAsync(async () => await db.BookingRequests.CountAsync(r => r.EventId == evt.Id) == Early + Later,
            TimeSpan.FromSeconds(30), "every request's answer");
        var answers = await db.BookingRequests.AsNoTracking().Where(r => r.EventId == evt.Id).ToDictionaryAsync(r => r.Id);
        Assert.Equal(early.Concat(later).Select(r => r.RequestId).Order(), answers.Keys.Order());
        var confirmedEarly = early.Select((r, arrival) => (Arrival: arrival, Answer: answers[r.RequestId]))
            .Where(a => a.Answer.Status == BookingRequestStatus.Confirmed).ToList();
        Assert.Equal(Tickets, confirmedEarly.Count);
        Assert.All(later, r => Assert.Equal((BookingRequestStatus.Rejected, "sold-out"), (answers[r.RequestId].Status, answers[r.RequestId].Reason)));
        // FIFO would confirm arrivals 0 to 149 and none after; a shuffle confirms about half of the later 150.
        var confirmedLate = confirmedEarly.Count(a => a.Arrival >= Early - Tickets);
        Assert.True(confirmedLate >= 40, $"only {confirmedLate} of the last {Early - Tickets} pre-queue arrivals were confirmed: no shuffle");
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: Tickets);
        var state = await buyers[Early].Http.GetFromJsonAsync<WaitingRequestDto>($"/api/bookings/requests/{later[0].RequestId}");
        Assert.Equal(("rejected", null), (state!.Status, state.OpensAt));
        buyers.ForEach(b => b.Dispose());
    }

    [Fact]
    public async Task The_opening_places_the_pre_queue_a_pass_at_a_time_and_answers_its_head_before_its_tail_is_placed()
    {
        // Placed in one step, a pre-queue held Redis, and with it every buyer and the drain, for as long as placing all of
        // it took (a second for 20,000); now each pass places at most PlacedPerPass of the drawn order, then answers a batch.
        const int Early = 350, Tickets = 100;
        var buyers = await fixture.SeedAccountsAsync(Early);
        using var admin = await fixture.AdminAsync();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var opens = OpensIn(TimeSpan.FromSeconds(6));
        var evt = await admin.CreateEventAsync(Body(Tickets, opens, highDemand: true));
        // What the worker announces to the request streams, in the order it happened: each placing, each batch's answers.
        var announcements = new ConcurrentQueue<QueueAnnouncement>();
        await redis.GetSubscriber().SubscribeAsync(QueueKeys.AnswersChannel(evt.Id), (_, message) => announcements.Enqueue(QueueAnnouncement.Parse(message)));
        var early = await Task.WhenAll(buyers.Select(async b => await QueuedAsync(await b.BookAsync(evt.Id, 1))));
        Assert.True(DateTime.UtcNow < opens, "the pre-queue took longer to fill than the test allows before the opening");

        await using var db = fixture.CreateDbContext();
        await WaitlistTestApi.EventuallyAsync(async () => await db.BookingRequests.CountAsync(r => r.EventId == evt.Id) == Early,
            TimeSpan.FromSeconds(30), "every request's answer");
        await WaitlistTestApi.EventuallyAsync(() => Task.FromResult(announcements.Sum(a => a.Answers.Count) == Early), TimeSpan.FromSeconds(5),
            "every answer announced");

        var messages = announcements.ToList();
        var placings = messages.Select((m, i) => (Message: m, Index: i)).Where(m => m.Message.Placed.Count > 0).ToList();
        Assert.All(placings, p => Assert.InRange(p.Message.Placed.Count, 1, EventlyAppFixture.QueuePlacedPerPass));
        Assert.True(messages.FindIndex(m => m.Answers.Count > 0) < placings[^1].Index, "nothing was answered before the last placing");
        // One order, placed once: every pre-queued request, with the positions 1 to 350 in the order they were placed.
        var placed = placings.SelectMany(p => p.Message.Placed).ToList();
        Assert.Equal(Enumerable.Range(1, Early).Select(i => (long)i), placed.Select(p => p.Sequence));
        Assert.Equal(early.Select(r => r.RequestId).Order(), placed.Select(p => p.RequestId).Order());
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: Tickets);
        buyers.ForEach(b => b.Dispose());
    }

    [Fact]
    public async Task The_drawn_order_is_stored_once_as_drawn_and_placed_a_step_at_a_time_with_the_late_arrivals_last()
    {
        // The opening's scripts on their own, against the fixture's Redis, on an event no worker watches.
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var db = redis.GetDatabase();
        var eventId = 1_000_000_000L + Random.Shared.Next(1_000_000);
        long Id(int n) => QueueKeys.FirstRequestId(eventId) + n;
        for (var n = 1; n <= 6; n++)
        {
            await db.HashSetAsync(QueueKeys.Request(Id(n)),
                [new("user", n), new("qty", 1), new("status", "queued"), new("seats", ""), new("at", DateTime.UtcNow.Ticks), new("tp", ""), new("key", "")]);
        }
        // Five accounts pre-queued, one came after the opening time; the opening has passed.
        for (var n = 1; n <= 5; n++)
        {
            await db.HashSetAsync(QueueKeys.PreQueue(eventId), n, Id(n));
            await db.ListRightPushAsync(QueueKeys.PreQueueArrivals(eventId), Id(n));
        }
        await db.ListRightPushAsync(QueueKeys.Late(eventId), Id(6));
        await db.StringSetAsync(QueueKeys.Opens(eventId), DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds());
        var opening = new QueueOpening(redis);

        // A draw that misses a request that joined the pre-queue since is refused: the worker draws again.
        Assert.False(await opening.StoreOrderAsync(eventId, [Id(2), Id(1), Id(4), Id(3)]));
        Assert.Equal(-2, await opening.PlaceNextAsync(eventId, 2));
        long[] order = [Id(3), Id(1), Id(5), Id(2), Id(4)];
        Assert.True(await opening.StoreOrderAsync(eventId, order.Select(id => (RedisValue)id).ToArray()));
        // Another worker's draw, or a dead one's delayed call, changes nothing.
        Assert.False(await opening.StoreOrderAsync(eventId, Enumerable.Reverse(order).Select(id => (RedisValue)id).ToArray()));

        Assert.Equal(2, await opening.PlaceNextAsync(eventId, 2));
        Assert.Equal(2, await opening.PlaceNextAsync(eventId, 2));
        Assert.False(await db.KeyExistsAsync(QueueKeys.Opened(eventId)), "opened before the pre-queue was all placed");
        // The last of the order, then the late arrival; then the sale is open and placing again places nothing.
        Assert.Equal(2, await opening.PlaceNextAsync(eventId, 2));
        Assert.True(await db.KeyExistsAsync(QueueKeys.Opened(eventId)), "the sale was not marked open");
        Assert.Equal(-1, await opening.PlaceNextAsync(eventId, 2));

        long[] placed = [.. order, Id(6)];
        var entries = await db.StreamRangeAsync(QueueKeys.Stream(eventId));
        Assert.Equal(placed, entries.Select(e => (long)e["id"]));
        Assert.Equal(Enumerable.Range(1, placed.Length).Select(i => (long)i), entries.Select(e => (long)e["seq"]));
        foreach (var (id, i) in placed.Select((id, i) => (id, i)))
        {
            Assert.Equal(i + 1, (long)await db.HashGetAsync(QueueKeys.Request(id), "seq"));
        }
        Assert.Equal(0, await db.KeyExistsAsync([QueueKeys.PreQueue(eventId), QueueKeys.PreQueueArrivals(eventId), QueueKeys.Late(eventId),
            QueueKeys.PreQueueOrder(eventId)]));
        await db.KeyDeleteAsync([QueueKeys.Stream(eventId), QueueKeys.Sequence(eventId), QueueKeys.Opened(eventId), QueueKeys.Opens(eventId),
            QueueKeys.DrainRate(eventId), .. placed.Select(id => QueueKeys.Request(id))]);
    }

    [Fact]
    public async Task A_worker_killed_in_the_middle_of_the_shuffle_leaves_one_order_and_every_request_answered_once()
    {
        const int Early = 60, Late = 10, Tickets = 30;
        var buyers = await fixture.SeedAccountsAsync(Early + Late);
        using var admin = await fixture.AdminAsync();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var db = redis.GetDatabase();

        // The doomed worker reaches Redis through a proxy that holds its first placing (the first call that names the
        // event's answers channel): it has drawn and stored its order, sent the placing, and waits for Redis's reply. It
        // holds the event's lease from before the event's first request, for a minute: the fixture's workers, running all
        // along, cannot take the event from it while it waits.
        var (proxy, throughProxy) = FaultProxy.ForRedis((await fixture.App.GetConnectionStringAsync("redis"))!);
        await using var _ = proxy;
        await using var doomed = await ServiceProcess.StartWorkerAsync(fixture, redis: throughProxy, queueLeaseSeconds: 60);
        // The whole pre-queue is in before the admin opens the sale, however slow the machine.
        var body = TestApi.NewEventBody(capacity: Tickets, highDemand: true);
        var evt = await admin.CreateEventAsync(TestApi.With(body, "salesStartAt", OpensIn(TimeSpan.FromHours(1))));
        var eventId = evt.Id;
        await db.StringSetAsync(QueueKeys.Lease(eventId), doomed.QueueConsumer, TimeSpan.FromSeconds(60));
        proxy.HoldAt(QueueKeys.AnswersChannel(eventId).ToString());
        var early = (await Task.WhenAll(buyers.Take(Early).Select(async b => await QueuedAsync(await b.BookAsync(eventId, 1))))).ToList();
        Assert.Equal(HttpStatusCode.OK,
            (await admin.Http.PutAsJsonAsync($"/api/events/{eventId}", TestApi.With(body, "salesStartAt", OpensIn(TimeSpan.Zero)))).StatusCode);

        await proxy.Held.WaitAsync(TimeSpan.FromSeconds(30));
        var late = (await Task.WhenAll(buyers.Skip(Early).Select(async b => await QueuedAsync(await b.BookAsync(eventId, 1))))).ToList();
        // In flight: the lease is the doomed worker's, the order drawn and stored, nothing placed, the sale not marked open.
        Assert.Equal(doomed.QueueConsumer, (string?)await db.StringGetAsync(QueueKeys.Lease(eventId)));
        Assert.False(await db.KeyExistsAsync(QueueKeys.Opened(eventId)), "the sale was marked open");
        Assert.Equal(0, await db.StreamLengthAsync(QueueKeys.Stream(eventId)));
        Assert.Equal(Early, await db.ListLengthAsync(QueueKeys.PreQueueArrivals(eventId)));
        Assert.Equal(Late, await db.ListLengthAsync(QueueKeys.Late(eventId)));
        var drawn = (await db.ListRangeAsync(QueueKeys.PreQueueOrder(eventId))).Select(id => (long)id).ToList();
        Assert.Equal(early.Select(r => r.RequestId).Order(), drawn.Order());
        doomed.Kill();
        // Its lease would lapse within the minute: it lapses now, and one of the fixture's workers takes it and places the
        // dead worker's order.
        await db.KeyDeleteAsync(QueueKeys.Lease(eventId));

        await using var sql = fixture.CreateDbContext();
        await WaitlistTestApi.EventuallyAsync(async () => await sql.BookingRequests.CountAsync(r => r.EventId == eventId) == Early + Late,
            TimeSpan.FromSeconds(30), "every request's answer");
        // The dead worker's shuffle reaches Redis only now: it must change nothing.
        proxy.Restore();
        await Task.Delay(300);

        var answers = await sql.BookingRequests.AsNoTracking().Where(r => r.EventId == eventId).ToDictionaryAsync(r => r.Id);
        Assert.Equal(early.Concat(late).Select(r => r.RequestId).Order(), answers.Keys.Order());
        Assert.Equal(Tickets, early.Count(r => answers[r.RequestId].Status == BookingRequestStatus.Confirmed));
        Assert.All(late, r => Assert.Equal(BookingRequestStatus.Rejected, answers[r.RequestId].Status));
        // One order: every request placed once, the pre-queue (seq 1 to 60) ahead of the late ones (61 to 70).
        var seqs = new Dictionary<long, long>();
        foreach (var request in early.Concat(late))
        {
            seqs[request.RequestId] = (long)await db.HashGetAsync(QueueKeys.Request(request.RequestId), "seq");
        }
        Assert.Equal(Enumerable.Range(1, Early).Select(i => (long)i), drawn.Select(id => seqs[id]));
        Assert.Equal(Enumerable.Range(Early + 1, Late).Select(i => (long)i), late.Select(r => seqs[r.RequestId]).Order());
        Assert.Equal(Early + Late, (long)await db.StringGetAsync(QueueKeys.Sequence(eventId)));
        await fixture.AssertBookingInvariantsAsync(eventId, expectedBooked: Tickets);
        buyers.ForEach(b => b.Dispose());
    }
}
