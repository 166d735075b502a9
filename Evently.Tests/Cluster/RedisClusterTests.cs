using Evently.Domain.Bookings;
using Microsoft.EntityFrameworkCore;
using Evently.Tests.Bookings;
using Xunit.Abstractions;

namespace Evently.Tests.Cluster;

// The queue, the limits, the read cache's change messages and data loss on a three-node Redis Cluster: the single-node suite's tests that
// touch Redis keys, run as they are against the cluster's app, and a node killed in the middle of a drain.
[Collection(ClusterCollection.Name)]
public sealed class RedisClusterTests(ClusterAppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public Task A_hundred_parallel_requests_for_thirty_tickets_confirm_exactly_thirty() =>
        new HighDemandQueueTests(fixture).A_hundred_parallel_requests_for_thirty_tickets_confirm_exactly_thirty_and_answer_every_one();

    [Fact]
    public Task A_duplicate_and_a_malformed_entry_stop_neither_their_event_nor_another() =>
        new QueueDrainTests(fixture).A_duplicate_and_a_malformed_entry_stop_neither_their_event_nor_another();

    [Fact]
    public Task A_worker_that_takes_over_answers_the_previous_holders_entries_first() =>
        new QueueDrainTests(fixture).A_worker_that_takes_over_answers_the_previous_holders_entries_before_newer_ones();

    [Fact]
    public Task Every_key_an_on_sale_leaves_in_redis_expires() => new QueueDrainTests(fixture).Every_key_an_on_sale_leaves_in_redis_expires();

    [Fact]
    public Task After_redis_loses_everything_a_repeated_key_and_a_new_request_are_both_answered() =>
        new LedgerTests(fixture).After_redis_loses_everything_a_repeated_key_and_a_new_request_are_both_answered();

    [Fact]
    public Task The_pre_queue_is_shuffled_once_at_the_opening() =>
        new WaitingRoomTests(fixture).The_pre_queue_is_shuffled_once_at_the_opening_and_served_before_everyone_who_came_later();

    [Fact]
    public Task Every_api_replica_shows_an_admin_change_within_a_pub_sub_message() =>
        new Events.EventReadsCacheTests(fixture).Every_api_replica_shows_an_admin_change_within_a_pub_sub_message();

    [Fact]
    public async Task One_users_rate_limit_holds_across_the_api_replicas()
    {
        // The fixture's two replicas behind one endpoint share the user's bucket, kept under its own hash tag.
        using var user = await fixture.NewUserAsync();
        var limit = EventlyAppFixture.UserRateLimit;
        var answers = await Task.WhenAll(Enumerable.Range(0, 2 * limit).Select(_ => user.Http.GetAsync("/api/bookings")));

        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        // Never more than the limit; a little less, as each replica may hold up to a twentieth of it unspent.
        Assert.InRange(answers.Count(a => a.StatusCode == HttpStatusCode.OK), limit - 2 * (limit / 20), limit);
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        Assert.True(await redis.GetDatabase().KeyExistsAsync($"evently:ratelimit:{{user:{user.User.Id}}}"), "the bucket is in Redis");
    }

    [Fact]
    public async Task A_node_killed_during_a_drain_holds_its_events_while_the_others_drain_and_nothing_is_lost()
    {
        const int Buyers = 60, PerBuyer = BookingQueue.MaxQueuedTicketsPerUser, Requests = Buyers * PerBuyer;
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture, admin: true);
        using var admin = await fixture.AdminAsync();
        // The victim's queue lives on the node to kill; the bystander's queue and watch bucket on the other two.
        var victim = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1000, highDemand: true));
        var node = fixture.NodeOf(redis, QueueKeys.Stream(victim.Id));
        EventDto bystander;
        do
        {
            bystander = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1000, highDemand: true));
        }
        while (fixture.NodeOf(redis, QueueKeys.Stream(bystander.Id)) == node || fixture.NodeOf(redis, QueueKeys.ActiveEventsOf(bystander.Id)) == node);
        var buyers = await fixture.SeedAccountsAsync(Buyers);

        var queue = new BookingQueue(redis, TimeProvider.System);
        await queue.PauseAsync();
        List<QueuedRequestDto> queued;
        try
        {
            // Each buyer's requests one after another, the buyers at once.
            queued = (await Task.WhenAll(buyers.Select(async b =>
            {
                var mine = new List<QueuedRequestDto>();
                foreach (var id in Enumerable.Range(0, PerBuyer).SelectMany(_ => new[] { victim.Id, bystander.Id }))
                {
                    mine.Add(await QueueTestApi.QueuedAsync(await b.BookAsync(id, 1)));
                }
                return mine;
            }))).SelectMany(mine => mine).ToList();
        }
        finally
        {
            await queue.ResumeAsync();
        }
        await using var sql = fixture.CreateDbContext();
        Task<int> AnsweredAsync(long eventId) => sql.BookingRequests.CountAsync(r => r.EventId == eventId);

        // In the middle of the victim's drain: some answered, the rest still in its stream on the node.
        await WaitlistTestApi.EventuallyAsync(async () => await AnsweredAsync(victim.Id) > 0, TimeSpan.FromSeconds(10), "the victim's drain to start");
        var inFlight = await redis.GetDatabase().StreamLengthAsync(QueueKeys.Stream(victim.Id));
        await fixture.KillAsync(redis, node);
        Assert.True(inFlight > 0, "the killed node held queued requests");

        // The others go on: the bystander drains in full while the victim's node is down, and the victim waits.
        await WaitlistTestApi.EventuallyAsync(async () => await AnsweredAsync(bystander.Id) == Requests, TimeSpan.FromSeconds(30),
            "the bystander to drain with a node down");
        var held = await AnsweredAsync(victim.Id);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(held, await AnsweredAsync(victim.Id));
        Assert.True(held < Requests, $"the victim's drain was interrupted ({held} of {Requests} answered)");
        output.WriteLine($"node {node} killed with {inFlight} requests in the victim's stream; {held} answered before it came back");

        // Back on its append-only file: every request accepted before the kill is answered, once.
        await fixture.RestartAsync(node);
        await WaitlistTestApi.EventuallyAsync(async () => await AnsweredAsync(victim.Id) == Requests, TimeSpan.FromSeconds(60),
            "the victim to drain once its node is back");
        var answers = await sql.BookingRequests.AsNoTracking().Where(r => r.EventId == victim.Id || r.EventId == bystander.Id).ToListAsync();
        Assert.Equal(queued.Select(q => q.RequestId).Order(), answers.Select(a => a.Id).Order());
        Assert.All(answers, a => Assert.Equal(BookingRequestStatus.Confirmed, a.Status));
        await fixture.AssertBookingInvariantsAsync(victim.Id, expectedBooked: Requests);
        await fixture.AssertBookingInvariantsAsync(bystander.Id, expectedBooked: Requests);
        buyers.ForEach(b => b.Dispose());
    }
}
