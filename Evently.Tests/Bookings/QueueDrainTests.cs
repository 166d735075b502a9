using Aspire.Hosting.Testing;
using Evently.Domain.Bookings;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Evently.Tests.Bookings;

// The drain of the high-demand queue under adversity: entries that cannot be answered as they are, a worker
// that dies holding entries, and the keys an on-sale leaves in Redis.
[Collection(AppCollection.Name)]
public sealed class QueueDrainTests(EventlyAppFixture fixture)
{
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_duplicate_and_a_malformed_entry_stop_neither_their_event_nor_another()
    {
        using var admin = await fixture.AdminAsync();
        var poisoned = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        var other = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        using var user = await fixture.NewUserAsync();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var queue = new BookingQueue(redis, TimeProvider.System);
        var db = redis.GetDatabase();

        await queue.PauseAsync();
        QueuedRequestDto victim, bystander;
        try
        {
            victim = await QueueTestApi.QueuedAsync(await user.BookAsync(poisoned.Id, 1));
            bystander = await QueueTestApi.QueuedAsync(await user.BookAsync(other.Id, 1));
            // The same request twice in one stream (as a redelivery after a lost acknowledgement could leave it), then garbage.
            var entry = Assert.Single(await db.StreamRangeAsync(QueueKeys.Stream(poisoned.Id)));
            await db.StreamAddAsync(QueueKeys.Stream(poisoned.Id), entry.Values);
            await db.StreamAddAsync(QueueKeys.Stream(poisoned.Id), [new NameValueEntry("id", "not-a-number")]);
        }
        finally
        {
            await queue.ResumeAsync();
        }

        Assert.Equal("confirmed", (await QueueTestApi.AnsweredAsync(user, victim.RequestId, AnswerBound)).Status);
        Assert.Equal("confirmed", (await QueueTestApi.AnsweredAsync(user, bystander.RequestId, AnswerBound)).Status);
        var later = await QueueTestApi.QueuedAsync(await user.BookAsync(poisoned.Id, 1));
        Assert.Equal("confirmed", (await QueueTestApi.AnsweredAsync(user, later.RequestId, AnswerBound)).Status);
        await using var sql = fixture.CreateDbContext();
        Assert.Equal(2, await sql.BookingRequests.CountAsync(r => r.EventId == poisoned.Id));
        await fixture.AssertBookingInvariantsAsync(poisoned.Id, expectedBooked: 2);
        await WaitlistTestApi.EventuallyAsync(async () => await db.StreamLengthAsync(QueueKeys.Stream(poisoned.Id)) == 0,
            AnswerBound, "the poisoned stream to empty");
    }

    // A batch that outlives the 10 s statement limit (its event row held by a long write) failed for the database's
    // sake, not its requests': they wait for the next try, never dropped with a rejection the database never saw.
    [Fact]
    public async Task A_batch_the_database_cannot_take_in_time_is_answered_once_it_can_never_dropped()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        using var user = await fixture.NewUserAsync();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        await using var holder = fixture.CreateDbContext();
        QueuedRequestDto queued;
        await using (var hold = await holder.Database.BeginTransactionAsync())
        {
            await holder.Database.ExecuteSqlRawAsync("SELECT Id FROM events WHERE Id = {0} FOR UPDATE", evt.Id);
            queued = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1));
            // The fault hits work in flight: a worker has taken the request (pending in its consumer group), and its batch
            // waits on the held row past the statement limit.
            await WaitlistTestApi.EventuallyAsync(async () => await PendingAsync(redis, evt.Id) == 1, TimeSpan.FromSeconds(10), "the batch taking the request");
            await Task.Delay(TimeSpan.FromSeconds(12));
            Assert.Equal("queued", (await user.Http.GetFromJsonAsync<QueuedRequestDto>($"/api/bookings/requests/{queued.RequestId}"))!.Status);
            Assert.Equal(1, await PendingAsync(redis, evt.Id));
        }

        var answer = await QueueTestApi.AnsweredAsync(user, queued.RequestId, TimeSpan.FromSeconds(40));
        Assert.Equal("confirmed", answer.Status);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
    }

    // Entries a worker has read and not yet acknowledged; none before the first read makes the group.
    private static async Task<long> PendingAsync(ConnectionMultiplexer redis, long eventId)
    {
        try
        {
            return (await redis.GetDatabase().StreamPendingAsync(QueueKeys.Stream(eventId), QueueReader.ConsumerGroup)).PendingMessageCount;
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            return 0;
        }
    }

    [Fact]
    public async Task A_request_queued_while_its_reply_was_lost_is_drained_and_its_repeat_answers_it()
    {
        // This replica's Redis goes through a proxy that lets the intake script run and loses its reply, as a Redis
        // frozen past the client's timeout, or a connection cut after the command went out, would.
        var redis = ConfigurationOptions.Parse((await fixture.App.GetConnectionStringAsync("redis"))!);
        var endpoint = (System.Net.IPEndPoint)redis.EndPoints.Single();
        await using var proxy = new ReplyCuttingProxy(endpoint.Address.ToString(), endpoint.Port);
        redis.EndPoints.Clear();
        redis.EndPoints.Add("127.0.0.1", proxy.Port);
        redis.AbortOnConnectFail = false;
        await using var replica = await ServiceProcess.StartApiAsync(fixture, redis: redis.ToString(includePassword: true));
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        using var user = replica.As(await fixture.NewUserAsync());
        var key = $"lost-reply-{Guid.NewGuid():N}";
        // A first request through this replica, answered, and the event let go by the workers as its stream emptied:
        // so the one whose reply is lost runs the script to the end (an event's first request is asked again with
        // the highest id the database answered) and is the first in an unwatched stream.
        await using var direct = await QueueTestApi.ConnectRedisAsync(fixture);
        var first = await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1));
        await QueueTestApi.AnsweredAsync(user, first.RequestId, AnswerBound);
        await WaitlistTestApi.EventuallyAsync(async () => !await direct.GetDatabase().SetContainsAsync(QueueKeys.ActiveEventsOf(evt.Id), evt.Id),
            AnswerBound, "the workers to let the drained event go");

        proxy.CutReplyToNext(key);
        var lost = await user.BookAsync(evt.Id, 1, key);
        Assert.True(proxy.Cut.IsCompleted, "the intake's reply was lost");
        Assert.Equal("unavailable", (await lost.ReadProblemAsync(HttpStatusCode.ServiceUnavailable)).Code());
        Assert.Equal(1, await direct.GetDatabase().StreamLengthAsync(QueueKeys.Stream(evt.Id)));

        // The careful client repeats its key: the request the lost reply queued, and its answer.
        QueuedRequestDto? repeat = null;
        await WaitlistTestApi.EventuallyAsync(async () =>
            {
                var again = await user.BookAsync(evt.Id, 1, key);
                repeat = again.StatusCode == HttpStatusCode.Accepted ? await again.Content.ReadFromJsonAsync<QueuedRequestDto>() : null;
                return repeat is not null;
            }, AnswerBound, "the repeat's 202");
        Assert.Equal("confirmed", (await QueueTestApi.AnsweredAsync(user, repeat!.RequestId, AnswerBound)).Status);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2);
    }

    [Fact]
    public async Task A_worker_that_takes_over_answers_the_previous_holders_entries_before_newer_ones()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 3, highDemand: true));
        var users = (await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => fixture.NewUserAsync()))).ToList();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var queue = new BookingQueue(redis, TimeProvider.System);
        var reader = new QueueReader(redis);

        await queue.PauseAsync();
        List<QueuedRequestDto> older, newer;
        try
        {
            older = [];
            foreach (var user in users[..3])
            {
                older.Add(await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1)));
            }
            // A worker takes the lease and the three oldest requests, then dies: they stay pending under its name.
            Assert.True(await reader.TryLeaseAsync(evt.Id, "dead-worker", TimeSpan.FromMilliseconds(200)));
            Assert.Equal(3, (await reader.ReadAsync(evt.Id, "dead-worker", 100)).Count);
            newer = [];
            foreach (var user in users[3..])
            {
                newer.Add(await QueueTestApi.QueuedAsync(await user.BookAsync(evt.Id, 1)));
            }
            await Task.Delay(300); // its lease lapses; its entries have been idle far less than a lease
        }
        finally
        {
            await queue.ResumeAsync();
        }

        var olderAnswers = await Task.WhenAll(older.Select((q, i) => QueueTestApi.AnsweredAsync(users[i], q.RequestId, AnswerBound)));
        var newerAnswers = await Task.WhenAll(newer.Select((q, i) => QueueTestApi.AnsweredAsync(users[3 + i], q.RequestId, AnswerBound)));
        Assert.All(olderAnswers, a => Assert.Equal("confirmed", a.Status));
        Assert.All(newerAnswers, a => Assert.Equal(("rejected", "sold-out"), (a.Status, a.Reason)));
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 3);
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task Every_key_an_on_sale_leaves_in_redis_expires()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1, highDemand: true));
        using var buyer = await fixture.NewUserAsync();
        using var latecomer = await fixture.NewUserAsync();
        var confirmed = await QueueTestApi.QueuedAsync(await buyer.BookAsync(evt.Id, 1, Guid.NewGuid().ToString()));
        var rejected = await QueueTestApi.QueuedAsync(await latecomer.BookAsync(evt.Id, 1, Guid.NewGuid().ToString()));
        Assert.Equal("confirmed", (await QueueTestApi.AnsweredAsync(buyer, confirmed.RequestId, AnswerBound)).Status);
        Assert.Equal("rejected", (await QueueTestApi.AnsweredAsync(latecomer, rejected.RequestId, AnswerBound)).Status);

        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture, admin: true);
        var server = redis.GetServer(QueueKeys.Stream(evt.Id));
        var db = redis.GetDatabase();
        List<(string Key, TimeSpan? Ttl)> keys = [];
        // Once the worker has found the stream empty, it retires it; until then the stream is queue state in flight.
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            keys = [];
            await foreach (var key in server.KeysAsync(pattern: $"*{QueueKeys.Tag(evt.Id)}*"))
            {
                keys.Add((key.ToString(), await db.KeyTimeToLiveAsync(key)));
            }
            return keys.Count > 0 && keys.All(k => k.Ttl is not null);
        }, AnswerBound, "every key of the event to have an expiry");
        Assert.Contains(keys, k => k.Key == QueueKeys.Stream(evt.Id).ToString());
        Assert.Contains(keys, k => k.Key == QueueKeys.Request(confirmed.RequestId).ToString());
        Assert.False(await db.SetContainsAsync(QueueKeys.ActiveEventsOf(evt.Id), evt.Id), "a retired event is no longer watched");
    }
}
