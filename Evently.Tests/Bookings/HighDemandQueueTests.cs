using System.Net.Http.Headers;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Evently.Domain.Bookings;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Bookings;

public sealed record BookingRequestDto(long RequestId, long EventId, int Quantity, string Status, long? Position, long? BookingId, string? Reason);

// The high-demand path: intake answers 202 from Redis alone, the worker answers every request exactly once,
// in order, in batches, and the contract's invariants hold as on the direct path.
[Collection(AppCollection.Name)]
public sealed class HighDemandQueueTests(EventlyAppFixture fixture)
{
    private async Task<EventDto> HighDemandEventAsync(int capacity, object? seating = null)
    {
        using var admin = await fixture.AdminAsync();
        return await admin.CreateEventAsync(TestApi.NewEventBody(capacity: capacity, highDemand: true, seating: seating));
    }

    private static async Task<BookingRequestDto> QueuedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var request = (await response.Content.ReadFromJsonAsync<BookingRequestDto>())!;
        Assert.Equal($"/api/bookings/requests/{request.RequestId}", response.Headers.Location?.OriginalString);
        return request;
    }

    private static async Task<BookingRequestDto> AnsweredAsync(Caller caller, long requestId)
    {
        BookingRequestDto? state = null;
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            state = await caller.Http.GetFromJsonAsync<BookingRequestDto>($"/api/bookings/requests/{requestId}");
            return state!.Status != "queued";
        }, TimeSpan.FromSeconds(30), $"the answer to request {requestId}");
        return state!;
    }

    [Fact]
    public async Task A_hundred_parallel_requests_for_thirty_tickets_confirm_exactly_thirty_and_answer_every_one()
    {
        var evt = await HighDemandEventAsync(capacity: 30);
        var users = (await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fixture.NewUserAsync()))).ToList();
        Assert.Equal(0, (await fixture.ReadEventAsync(evt.Id)).Booked); // cached now: the worker's bookings must evict it

        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => users[i % 20].BookAsync(evt.Id, 1)));
        var queued = await Task.WhenAll(responses.Select(QueuedAsync));
        Assert.All(queued, q => Assert.Equal(("queued", evt.Id, 1), (q.Status, q.EventId, q.Quantity)));
        Assert.Equal(100, queued.Select(q => q.RequestId).Distinct().Count());

        var answers = await Task.WhenAll(queued.Select((q, i) => AnsweredAsync(users[i % 20], q.RequestId)));

        Assert.Equal(30, answers.Count(a => a.Status == "confirmed"));
        Assert.All(answers.Where(a => a.Status == "rejected"), a => Assert.Equal("sold-out", a.Reason));
        for (var i = 0; i < answers.Length; i++)
        {
            if (answers[i].BookingId is { } bookingId)
            {
                var booking = await users[i % 20].Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{bookingId}");
                Assert.Equal((evt.Id, 1, "confirmed"), (booking!.EventId, booking.Quantity, booking.Status));
            }
        }
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 30);
        var read = await fixture.ReadEventOnceFreshAsync(evt.Id, e => e.Booked == 30);
        Assert.Equal((30, 0), (read.Booked, read.Available));
        await using var db = fixture.CreateDbContext();
        Assert.Equal(100, await db.BookingRequests.CountAsync(r => r.EventId == evt.Id));
        Assert.Contains(await users[0].NotificationsAsync(), n => n.Kind is "booking-confirmed" or "booking-rejected");
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task One_users_sequential_requests_are_answered_in_order()
    {
        var evt = await HighDemandEventAsync(capacity: 3);
        using var user = await fixture.NewUserAsync();

        var queued = new List<BookingRequestDto>();
        for (var i = 0; i < 5; i++)
        {
            queued.Add(await QueuedAsync(await user.BookAsync(evt.Id, 1)));
        }
        var answers = new List<BookingRequestDto>();
        foreach (var request in queued)
        {
            answers.Add(await AnsweredAsync(user, request.RequestId));
        }

        Assert.Equal(["confirmed", "confirmed", "confirmed", "rejected", "rejected"], answers.Select(a => a.Status));
    }

    [Fact]
    public async Task Requests_are_private_idempotent_and_validated_at_intake()
    {
        var evt = await HighDemandEventAsync(capacity: 50);
        using var owner = await fixture.NewUserAsync();
        using var stranger = await fixture.NewUserAsync();
        var key = Guid.NewGuid().ToString();

        var first = await QueuedAsync(await owner.BookAsync(evt.Id, 2, key));
        var again = await QueuedAsync(await owner.BookAsync(evt.Id, 2, key));

        Assert.Equal(first.RequestId, again.RequestId);
        Assert.Equal("idempotency-key-reused", (await (await owner.BookAsync(evt.Id, 3, key)).ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Code());
        await (await stranger.Http.GetAsync($"/api/bookings/requests/{first.RequestId}")).ReadProblemAsync(HttpStatusCode.NotFound);
        await (await owner.Http.GetAsync("/api/bookings/requests/987654321")).ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.NotEmpty((await (await owner.BookAsync(evt.Id, 11)).ReadProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("quantity"));
        Assert.Equal("confirmed", (await AnsweredAsync(owner, first.RequestId)).Status);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2);
    }

    [Fact]
    public async Task A_user_may_have_ten_tickets_queued_per_event_and_sees_how_many_are_ahead()
    {
        var evt = await HighDemandEventAsync(capacity: 100);
        using var user = await fixture.NewUserAsync();
        await using var redis = await ConnectRedisAsync();
        var queue = new BookingQueue(redis, TimeProvider.System);
        await queue.PauseAsync();
        List<BookingRequestDto> queued;
        try
        {
            queued = [];
            for (var i = 0; i < 5; i++)
            {
                queued.Add(await QueuedAsync(await user.BookAsync(evt.Id, 2)));
            }
            var eleventh = await user.BookAsync(evt.Id, 1);
            Assert.Equal("too-many-queued", (await eleventh.ReadProblemAsync(HttpStatusCode.Conflict)).Code());
            Assert.Equal([0L, 1, 2, 3, 4], queued.Select(q => q.Position!.Value));
            var last = await user.Http.GetFromJsonAsync<BookingRequestDto>($"/api/bookings/requests/{queued[^1].RequestId}");
            Assert.Equal(("queued", 4L), (last!.Status, last.Position));
        }
        finally
        {
            await queue.ResumeAsync();
        }

        foreach (var request in queued)
        {
            Assert.Equal("confirmed", (await AnsweredAsync(user, request.RequestId)).Status);
        }
        // Answered requests no longer count against the cap.
        Assert.Equal(HttpStatusCode.Accepted, (await user.BookAsync(evt.Id, 1)).StatusCode);
    }

    private async Task<StackExchange.Redis.ConnectionMultiplexer> ConnectRedisAsync() =>
        await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))!);

    [Fact]
    public async Task Queued_requests_for_the_same_seat_confirm_one_and_reject_the_rest_as_seat_taken()
    {
        var evt = await HighDemandEventAsync(capacity: 4, seating: new { sections = new[] { new { name = "Box", rows = 1, seatsPerRow = 4 } } });
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!.Select(s => s.Id).ToList();
        var users = (await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => fixture.NewUserAsync()))).ToList();

        var noSeats = await users[0].BookAsync(evt.Id, 1);
        Assert.NotEmpty((await noSeats.ReadProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("seatIds"));
        var queued = await Task.WhenAll(users.Select(u => u.BookSeatsAsync(evt.Id, [seats[0], seats[1]])).Select(async r => await QueuedAsync(await r)));
        var answers = await Task.WhenAll(queued.Select((q, i) => AnsweredAsync(users[i], q.RequestId)));

        var winner = Assert.Single(answers, a => a.Status == "confirmed");
        Assert.All(answers.Where(a => a != winner), a => Assert.Equal(("rejected", "seat-taken"), (a.Status, a.Reason)));
        var booking = await users[Array.IndexOf(answers, winner)].Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{winner.BookingId}");
        Assert.Equal([seats[0], seats[1]], booking!.Seats.Select(s => s.Id).Order());
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2);
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task A_worker_killed_mid_batch_leaves_every_request_answered_once()
    {
        var evt = await HighDemandEventAsync(capacity: 150);
        var users = (await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => fixture.NewUserAsync()))).ToList();
        await using (var doomed = await ServiceProcess.StartWorkerAsync(fixture))
        {
            var intake = Task.WhenAll(Enumerable.Range(0, 300).Select(i => users[i % 30].BookAsync(evt.Id, 1)));
            await Task.Delay(Random.Shared.Next(50, 300));
            doomed.Kill();
            var queued = await Task.WhenAll((await intake).Select(QueuedAsync));

            var answers = await Task.WhenAll(queued.Select((q, i) => AnsweredAsync(users[i % 30], q.RequestId)));
            Assert.Equal(150, answers.Count(a => a.Status == "confirmed"));
            Assert.Equal(150, answers.Count(a => a.Status == "rejected"));
        }

        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 150);
        await using var db = fixture.CreateDbContext();
        Assert.Equal(300, await db.BookingRequests.CountAsync(r => r.EventId == evt.Id));
        Assert.Equal(150, await db.Bookings.CountAsync(b => b.EventId == evt.Id));
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task Accepted_requests_survive_kill_9_of_redis_server_and_are_all_answered()
    {
        // A Redis of this test's own, run with the durability settings the AppHost gives the app's.
        await using var appRedis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(
            (await fixture.App.GetConnectionStringAsync("redis"))! + ",allowAdmin=true");
        var config = await appRedis.GetServers()[0].ConfigGetAsync("append*");
        var durability = config.Where(c => c.Key is "appendonly" or "appendfsync").ToDictionary(c => c.Key, c => c.Value);
        Assert.Equal("yes", durability["appendonly"]);
        // Empty, beside a database that holds the fixture's answers: its request ids must not meet theirs.
        await using var redis = await RedisServerProcess.StartAsync(durability["appendonly"]!, durability["appendfsync"]!);
        var evt = await HighDemandEventAsync(capacity: 10);
        await using var api = await ServiceProcess.StartApiAsync(fixture, redis: redis.ConnectionString + ",abortConnect=false");
        // Four users, five requests each: within the ten tickets one user may have queued.
        var users = (await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => fixture.NewUserAsync()))).Select(api.As).ToList();

        var queued = new List<BookingRequestDto>();
        for (var i = 0; i < 20; i++)
        {
            queued.Add(await QueuedAsync(await users[i % 4].BookAsync(evt.Id, 1)));
        }
        // A Redis without data hands out no request id that the database already holds an answer for.
        await using var db = fixture.CreateDbContext();
        var ids = queued.Select(q => q.RequestId).ToList();
        Assert.False(await db.BookingRequests.AnyAsync(r => ids.Contains(r.Id)), "a new request's id is an old request's");
        // Every 202 was answered before this: what Redis acknowledged must be in its append-only file.
        await redis.KillAndRestartAsync();
        await using var worker = await ServiceProcess.StartWorkerAsync(fixture, redis: redis.ConnectionString + ",abortConnect=false");

        await WaitlistTestApi.EventuallyAsync(
            async () => await db.BookingRequests.CountAsync(r => r.EventId == evt.Id) == 20, TimeSpan.FromSeconds(30), "20 answers");
        var answers = await db.BookingRequests.AsNoTracking().Where(r => r.EventId == evt.Id).ToListAsync();
        Assert.Equal(queued.Select(q => q.RequestId).Order(), answers.Select(a => a.Id).Order());
        Assert.Equal(10, answers.Count(a => a.Status == BookingRequestStatus.Confirmed));
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 10);
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task Without_Redis_the_queue_answers_503_and_normal_events_still_book()
    {
        var highDemand = await HighDemandEventAsync(capacity: 10);
        using var admin = await fixture.AdminAsync();
        var normal = await admin.CreateEventAsync(capacity: 10);
        using var user = await fixture.NewUserAsync();
        await using var api = await ServiceProcess.StartApiWithoutRedisAsync(fixture);
        using var http = new HttpClient { BaseAddress = api.Address };
        var login = await http.PostAsJsonAsync("/api/auth/login", new { email = user.User.Email, password = "password123" });
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await login.Content.ReadFromJsonAsync<LoginDto>())!.AccessToken);

        var queued = await http.PostAsJsonAsync("/api/bookings", new { eventId = highDemand.Id, quantity = 1 });
        var direct = await http.PostAsJsonAsync("/api/bookings", new { eventId = normal.Id, quantity = 1 });

        Assert.Equal("unavailable", (await queued.ReadProblemAsync(HttpStatusCode.ServiceUnavailable)).Code());
        Assert.True(queued.Headers.RetryAfter is not null, "a 503 says when to retry");
        Assert.Equal(HttpStatusCode.Created, direct.StatusCode);
        await fixture.AssertBookingInvariantsAsync(highDemand.Id, expectedBooked: 0);
    }
}
