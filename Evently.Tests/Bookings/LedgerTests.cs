using Aspire.Hosting.Testing;
using Evently.Domain.Bookings;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Evently.Tests.Bookings;

// One Idempotency-Key makes at most one booking, whichever path (direct or queued) serves it and whatever
// Redis forgets; the queue's drain cannot be poisoned, keeps first come first served across a takeover, and
// leaves no Redis key behind without an expiry.
[Collection(AppCollection.Name)]
public sealed class LedgerTests(EventlyAppFixture fixture)
{
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_key_that_booked_directly_answers_the_same_booking_after_the_event_turns_high_demand()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 10);
        var evt = await admin.CreateEventAsync(body);
        using var user = await fixture.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        var first = await user.BookAsync(evt.Id, 2, key).BookedAsync();

        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "highDemand", true))).StatusCode);
        var repeat = await user.BookAsync(evt.Id, 2, key);

        Assert.Equal(HttpStatusCode.Created, repeat.StatusCode);
        Assert.Equal(first.Id, (await repeat.Content.ReadFromJsonAsync<BookingDto>())!.Id);
        Assert.Equal("idempotency-key-reused", (await (await user.BookAsync(evt.Id, 3, key)).ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Code());
        await Task.Delay(TimeSpan.FromSeconds(1)); // a drain would have booked a queued twin by now
        await AssertOneBookingAsync(user, evt.Id, expectedBooked: 2);

        // A client whose answer was lost repeats the request with its key: whatever became of the event since (here, also
        // cancelled), the first answer comes back.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);
        var afterCancel = await user.BookAsync(evt.Id, 2, key);
        Assert.Equal(HttpStatusCode.Created, afterCancel.StatusCode);
        Assert.Equal(first.Id, (await afterCancel.Content.ReadFromJsonAsync<BookingDto>())!.Id);
    }

    [Fact]
    public async Task A_key_the_queue_answered_gets_the_same_request_after_the_event_was_cancelled()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        using var user = await fixture.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        var queued = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1, key));
        var answer = await QueueTestApi.AnsweredAsync(user, queued.RequestId);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);
        var repeat = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1, key));

        Assert.Equal((queued.RequestId, answer.Status, answer.BookingId), (repeat.RequestId, repeat.Status, repeat.BookingId));
    }

    [Fact]
    public async Task A_key_still_in_the_queue_gets_the_same_request_after_the_event_was_cancelled()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        using var user = await fixture.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var queue = new BookingQueue(redis, TimeProvider.System);
        await queue.PauseAsync();
        QueuedRequestDto queued, repeat;
        try
        {
            queued = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1, key));
            Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);
            repeat = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1, key));
            Assert.Equal("idempotency-key-reused", (await (await user.BookAsync(evt.Id, 2, key)).ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Code());
        }
        finally
        {
            await queue.ResumeAsync();
        }

        Assert.Equal((queued.RequestId, "queued"), (repeat.RequestId, repeat.Status));
        var answer = await QueueTestApi.AnsweredAsync(user, queued.RequestId);
        Assert.Equal(("rejected", "event-cancelled"), (answer.Status, answer.Reason));
    }

    [Fact]
    public async Task A_replica_that_has_not_heard_of_the_change_to_high_demand_queues_the_booking_instead_of_booking_directly()
    {
        // A replica on a Redis of its own hears of no admin change: its cached facts stay those of a plain event.
        await using var ownRedis = await RedisServerProcess.StartAsync("no", "everysec");
        await using var unaware = await ServiceProcess.StartApiAsync(fixture, redis: ownRedis.ConnectionString + ",abortConnect=false");
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 10);
        var evt = await admin.CreateEventAsync(body);
        using var member = await fixture.NewUserAsync();
        using var user = unaware.As(member);
        await user.BookAsync(evt.Id, 1).BookedAsync();

        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "highDemand", true))).StatusCode);
        var after = await user.BookAsync(evt.Id, 1);

        // The database says high-demand: the request goes to the queue, and no ticket was taken directly.
        Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
        await AssertOneBookingAsync(member, evt.Id, expectedBooked: 1);
    }

    [Fact]
    public async Task A_key_that_was_queued_answers_the_same_request_after_the_event_turns_normal()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 10, highDemand: true);
        var evt = await admin.CreateEventAsync(body);
        using var user = await fixture.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        var queued = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1, key));
        Assert.Equal("confirmed", (await QueueTestApi.AnsweredAsync(user, queued.RequestId)).Status);

        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "highDemand", false))).StatusCode);
        var repeat = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1, key));

        Assert.Equal((queued.RequestId, "confirmed"), (repeat.RequestId, repeat.Status));
        await AssertOneBookingAsync(user, evt.Id, expectedBooked: 1);
    }

    [Fact]
    public async Task A_key_still_in_the_queue_when_the_event_turns_normal_makes_one_booking()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 10, highDemand: true);
        var evt = await admin.CreateEventAsync(body);
        using var user = await fixture.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var queue = new BookingQueue(redis, TimeProvider.System);
        await queue.PauseAsync();
        QueuedRequestDto queued;
        HttpResponseMessage repeat;
        try
        {
            queued = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1, key));
            Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "highDemand", false))).StatusCode);
            repeat = await user.BookAsync(evt.Id, 1, key);
        }
        finally
        {
            await queue.ResumeAsync();
        }

        // Either answer is the key's one booking: the request in flight, or a booking that the request then answers with.
        Assert.True(repeat.StatusCode is HttpStatusCode.Created or HttpStatusCode.Accepted, $"repeat: {repeat.StatusCode}");
        var answer = await QueueTestApi.AnsweredAsync(user, queued.RequestId);
        Assert.Equal("confirmed", answer.Status);
        if (repeat.StatusCode == HttpStatusCode.Created)
        {
            Assert.Equal((await repeat.Content.ReadFromJsonAsync<BookingDto>())!.Id, answer.BookingId);
        }
        await AssertOneBookingAsync(user, evt.Id, expectedBooked: 1);
    }

    [Fact]
    public async Task After_redis_loses_everything_a_repeated_key_and_a_new_request_are_both_answered()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        using var first = await fixture.NewUserAsync();
        using var second = await fixture.NewUserAsync();
        var key = Guid.NewGuid().ToString();
        var queued = await QueueTestApi.QueuedAsync(await first.BookAsync(evt.Id, 1, key));
        Assert.Equal("confirmed", (await QueueTestApi.AnsweredAsync(first, queued.RequestId)).Status);

        await using (var redis = await QueueTestApi.ConnectRedisAsync(fixture, admin: true))
        {
            await Task.WhenAll(redis.GetServers().Where(s => !s.IsReplica).Select(s => s.FlushAllDatabasesAsync()));
        }
        var repeat = await QueueTestApi.QueuedAsync(await first.BookAsync(evt.Id, 1, key));
        var fresh = await QueueTestApi.QueuedAsync(await second.BookAsync(evt.Id, 1));

        Assert.Equal((queued.RequestId, "confirmed"), (repeat.RequestId, repeat.Status));
        Assert.Equal("confirmed", (await QueueTestApi.AnsweredAsync(second, fresh.RequestId, AnswerBound)).Status);
        await AssertOneBookingAsync(first, evt.Id, expectedBooked: 2);
    }

    [Fact]
    public async Task Unknown_seats_are_refused_at_the_queue_intake_and_nothing_is_queued()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 4, highDemand: true,
            seating: new { sections = new[] { new { name = "Box", rows = 1, seatsPerRow = 4 } } }));
        var other = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 2,
            seating: new { sections = new[] { new { name = "Box", rows = 1, seatsPerRow = 2 } } }));
        var foreign = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{other.Id}/seats"))!.First().Id;
        var mine = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!.First().Id;
        using var user = await fixture.NewUserAsync();

        foreach (var seatIds in new long[][] { [987654321], [foreign], [mine, foreign] })
        {
            var refused = await user.BookSeatsAsync(evt.Id, seatIds);
            Assert.NotEmpty((await refused.ReadProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("seatIds"));
        }

        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        Assert.Equal(0, await redis.GetDatabase().StreamLengthAsync(QueueKeys.Stream(evt.Id)));
        // The refused requests used none of the user's allowance: ten tickets may still be queued.
        Assert.Equal(HttpStatusCode.Accepted, (await user.BookSeatsAsync(evt.Id, [mine])).StatusCode);
    }

    private async Task AssertOneBookingAsync(Caller user, long eventId, int expectedBooked)
    {
        await using var db = fixture.CreateDbContext();
        Assert.Equal(1, await db.Bookings.CountAsync(b => b.UserId == user.User.Id && b.EventId == eventId));
        await fixture.AssertBookingInvariantsAsync(eventId, expectedBooked);
    }
}

public sealed record QueuedRequestDto(long RequestId, long EventId, int Quantity, string Status, long? Position, long? BookingId, string? Reason);

public static class QueueTestApi
{
    public static async Task<QueuedRequestDto> QueuedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var request = (await response.Content.ReadFromJsonAsync<QueuedRequestDto>())!;
        Assert.Equal($"/api/bookings/requests/{request.RequestId}", response.Headers.Location?.OriginalString);
        return request;
    }

    public static async Task<QueuedRequestDto> AnsweredAsync(Caller caller, long requestId, TimeSpan? within = null)
    {
        QueuedRequestDto? state = null;
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            state = await caller.Http.GetFromJsonAsync<QueuedRequestDto>($"/api/bookings/requests/{requestId}");
            return state!.Status != "queued";
        }, within ?? TimeSpan.FromSeconds(30), $"the answer to request {requestId}");
        return state!;
    }

    public static async Task<ConnectionMultiplexer> ConnectRedisAsync(EventlyAppFixture fixture, bool admin = false) =>
        await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))! + (admin ? ",allowAdmin=true" : ""));
}
