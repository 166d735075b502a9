using Aspire.Hosting.Testing;
using Evently.Domain.Bookings;

namespace Evently.Tests.Bookings;

// GET /api/bookings/requests/{id}/events: a buyer's place pushed as it changes, then the answer, from any replica.
[Collection(AppCollection.Name)]
public sealed class RequestStreamTests(EventlyAppFixture fixture)
{
    private static readonly TimeSpan EventBound = TimeSpan.FromSeconds(20);

    private string Events(long requestId) => $"/api/bookings/requests/{requestId}/events";

    private static async Task<WaitingRequestDto> QueuedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<WaitingRequestDto>())!;
    }

    [Fact]
    public async Task A_stream_on_another_replica_shows_the_pre_queue_then_a_falling_position_then_the_answer()
    {
        // Enough ahead that the drain, one request per transaction, lasts several of the watch's one-second ticks.
        const int Ahead = 300;
        var buyers = await fixture.SeedAccountsAsync(Ahead + 1);
        using var admin = await fixture.AdminAsync();
        // The fixture's replicas take the requests; a replica of the test's own serves the streams. A worker of its own
        // answers one request per transaction, so the drain lasts long enough for the position to be seen falling: it
        // holds the event's lease from before the first request, for longer than the test, so the fixture's workers
        // leave the event to it.
        await using var replica = await ServiceProcess.StartApiAsync(fixture);
        await using var worker = await ServiceProcess.StartWorkerAsync(fixture, queueBatchSize: 1, queueLeaseSeconds: 120);
        // The admin opens the sale once the pre-queued stream has shown it waiting: how long the requests before take does not matter.
        var opens = DateTime.UtcNow.AddHours(1);
        opens = new DateTime(opens.Ticks - opens.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
        var body = TestApi.NewEventBody(capacity: Ahead + 50, highDemand: true);
        var evt = await admin.CreateEventAsync(TestApi.With(body, "salesStartAt", opens));
        await using (var redis = await QueueTestApi.ConnectRedisAsync(fixture))
        {
            await redis.GetDatabase().StringSetAsync(QueueKeys.Lease(evt.Id), worker.QueueConsumer, TimeSpan.FromSeconds(120));
        }
        // In waves: a cold fixture given all of them at once may rightly answer some 503.
        var early = new List<WaitingRequestDto>();
        foreach (var wave in buyers.Take(Ahead).Chunk(50))
        {
            early.AddRange(await Task.WhenAll(wave.Select(async b => await QueuedAsync(await b.BookAsync(evt.Id, 1)))));
        }
        var (preQueued, _) = await EventStreamReader.OpenAsync(replica.Address, buyers[0], Events(early[0].RequestId));
        await using var first = preQueued!;
        var waiting = (await first.NextAsync(EventBound))!;
        Assert.Equal(("position", "0"), (waiting.Type, waiting.Id));
        Assert.Equal(("queued", null, opens), (waiting.Read<WaitingRequestDto>().Status, waiting.Read<WaitingRequestDto>().Position, waiting.Read<WaitingRequestDto>().OpensAt));

        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "salesStartAt", DateTime.UtcNow))).StatusCode);
        var last = await QueuedAsync(await buyers[Ahead].BookAsync(evt.Id, 1));
        var (stream, _) = await EventStreamReader.OpenAsync(replica.Address, buyers[Ahead], Events(last.RequestId));
        await using var reader = stream!;
        var positions = new List<WaitingRequestDto>();
        ServerSentEvent? next;
        while ((next = await reader.NextAsync(EventBound)) is { Type: "position" })
        {
            // Before the worker placed it (it came after the opening, before the shuffle ran), it has no position yet.
            if (next.Read<WaitingRequestDto>() is { Position: not null } placed)
            {
                positions.Add(placed);
            }
        }

        Assert.Equal("answer", next?.Type);
        var answer = next!.Read<WaitingRequestDto>();
        Assert.Equal(("confirmed", last.RequestId), (answer.Status, answer.RequestId));
        Assert.NotNull(answer.BookingId);
        Assert.Null(await reader.NextAsync(EventBound));
        var seen = string.Join(", ", positions.Select(p => p.Position));
        Assert.True(positions.Select(p => p.Position).Distinct().Count() >= 2, $"positions seen: {seen}");
        Assert.True(positions.Select(p => p.Position).SequenceEqual(positions.Select(p => p.Position).OrderDescending()), $"positions seen: {seen}");
        Assert.Contains(positions, p => p.EstimatedWaitSeconds is > 0);
        // The pre-queued buyer's stream ends with its answer too.
        while ((next = await first.NextAsync(EventBound)) is { Type: "position" })
        {
        }
        Assert.Equal(("answer", "confirmed"), (next?.Type, next?.Read<WaitingRequestDto>().Status));
        buyers.ForEach(b => b.Dispose());
    }

    [Fact]
    public async Task A_reconnect_with_Last_Event_ID_gets_only_what_changed_and_another_users_request_is_404()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        using var ahead = await fixture.NewUserAsync();
        using var owner = await fixture.NewUserAsync();
        using var stranger = await fixture.NewUserAsync();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var queue = new BookingQueue(redis, TimeProvider.System);
        var api = fixture.App.GetEndpoint("api", "http");

        await queue.PauseAsync();
        WaitingRequestDto request;
        ServerSentEvent seen;
        EventStreamReader? second;
        try
        {
            await QueuedAsync(await ahead.BookAsync(evt.Id, 1));
            request = await QueuedAsync(await owner.BookAsync(evt.Id, 1));
            var (notYours, refused) = await EventStreamReader.OpenAsync(api, stranger, Events(request.RequestId));
            Assert.Null(notYours);
            await refused.ReadProblemAsync(HttpStatusCode.NotFound);

            var (first, _) = await EventStreamReader.OpenAsync(api, owner, Events(request.RequestId));
            await using (first)
            {
                seen = (await first!.NextAsync(EventBound))!;
                Assert.Equal(("position", "0", 1L), (seen.Type, seen.Id, seen.Read<WaitingRequestDto>().Position));
            }
            // Resumed after what it saw: nothing changed, so nothing is sent again.
            (second, _) = await EventStreamReader.OpenAsync(api, owner, Events(request.RequestId), lastEventId: seen.Id);
            await Assert.ThrowsAsync<TimeoutException>(() => second!.NextAsync(TimeSpan.FromSeconds(1.5)));
        }
        finally
        {
            await queue.ResumeAsync();
        }

        await using (second)
        {
            var answer = (await second!.NextAsync(EventBound))!;
            Assert.Equal(("answer", "answer", "confirmed"), (answer.Type, answer.Id, answer.Read<WaitingRequestDto>().Status));
            Assert.Null(await second.NextAsync(EventBound));
        }
        // A stream of an answered request is its answer.
        var (after, _) = await EventStreamReader.OpenAsync(api, owner, Events(request.RequestId));
        await using var answered = after!;
        Assert.Equal("answer", (await answered.NextAsync(EventBound))!.Type);
        Assert.Null(await answered.NextAsync(EventBound));
    }

    [Fact]
    public async Task A_stream_whose_replica_was_cut_from_Redis_when_its_answer_was_announced_still_gets_the_answer()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 10, highDemand: true));
        using var owner = await fixture.NewUserAsync();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var queue = new BookingQueue(redis, TimeProvider.System);
        var (proxy, throughProxy) = FaultProxy.ForRedis((await fixture.App.GetConnectionStringAsync("redis"))!);
        await using var cut = proxy;
        await using var replica = await ServiceProcess.StartApiAsync(fixture, redis: throughProxy);

        // The drain is held until the replica streams the request and is cut from Redis, its subscription with it.
        await queue.PauseAsync();
        WaitingRequestDto request;
        EventStreamReader stream;
        ServerSentEvent placed;
        try
        {
            request = await QueuedAsync(await owner.BookAsync(evt.Id, 1));
            var (opened, _) = await EventStreamReader.OpenAsync(replica.Address, owner, Events(request.RequestId));
            stream = opened!;
            placed = (await stream.NextAsync(EventBound))!;
            Assert.Equal(("position", 0L), (placed.Type, placed.Read<WaitingRequestDto>().Position));
            proxy.Break();
        }
        finally
        {
            await queue.ResumeAsync();
        }
        // The fixture's workers answer it, and announce the answer, while the replica cannot hear it.
        await WaitlistTestApi.EventuallyAsync(async () =>
                (await owner.Http.GetFromJsonAsync<WaitingRequestDto>($"/api/bookings/requests/{request.RequestId}"))!.Status == "confirmed",
            EventBound, "the answer");
        ServerSentEvent? whileCut = null;
        var ended = false;
        try
        {
            whileCut = await stream.NextAsync(TimeSpan.FromSeconds(1));
            ended = whileCut is null;
        }
        catch (TimeoutException)
        {
        }
        Assert.NotEqual("answer", whileCut?.Type);
        proxy.Restore();

        // The stream reads what it missed once Redis is back; or, ended by the outage, is resumed with Last-Event-ID as a
        // browser's EventSource resumes it.
        var lastId = placed.Id;
        for (var resumed = 0; ; resumed++)
        {
            ServerSentEvent? next = null;
            if (!ended)
            {
                while ((next = await stream.NextAsync(EventBound)) is { Type: "position" })
                {
                    lastId = next.Id;
                }
            }
            if (next is { Type: "answer" })
            {
                Assert.Equal(("confirmed", request.RequestId), (next.Read<WaitingRequestDto>().Status, next.Read<WaitingRequestDto>().RequestId));
                break;
            }
            Assert.True(resumed < 5, "the stream ended without its answer five times");
            await stream.DisposeAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            var (again, response) = await EventStreamReader.OpenAsync(replica.Address, owner, Events(request.RequestId), lastEventId: lastId);
            Assert.True(again is not null, $"resuming: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            stream = again!;
            ended = false;
        }
        await stream.DisposeAsync();
    }
}
