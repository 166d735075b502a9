using Aspire.Hosting.Testing;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;
using StackExchange.Redis;

namespace Evently.Tests.Foundation;

// Writes whose reply from the database is lost (a proxy swallows it and cuts the connection): the execution strategy
// retries them, and the retry must recognise what the first try did instead of doing it twice or refusing itself.
[Collection(AppCollection.Name)]
public sealed class LostCommitTests(EventlyAppFixture fixture)
{
    [Theory]
    [InlineData(ReplyCuttingProxy.Commit)]
    [InlineData("INSERT INTO `events`")]
    public async Task An_event_created_while_its_reply_is_lost_is_created_once(string lostReply)
    {
        await using var proxy = new ReplyCuttingProxy(DatabaseHost(), DatabasePort());
        await using var api = await ServiceProcess.StartApiAsync(fixture, database: ThroughProxy(proxy));
        using var admin = api.As(await fixture.AdminAsync());
        var name = $"Lost reply {Guid.NewGuid():N}";
        // A cold process's first create (JIT, first connections) plus the retry could pass the 3 s request deadline
        // on a slow machine: the test is about the retry, so the process is warmed first.
        (await admin.Http.PostAsJsonAsync("/api/events", TestApi.NewEventBody())).EnsureSuccessStatusCode();

        proxy.CutReplyToNext(lostReply);
        var created = await admin.Http.PostAsJsonAsync("/api/events", TestApi.NewEventBody(name: name,
            capacity: 4, seating: new { sections = new[] { new { name = "Box", rows = 1, seatsPerRow = 4 } } }));

        Assert.True(proxy.Cut.IsCompleted, "the reply was lost");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await using var db = fixture.CreateDbContext();
        var evt = Assert.Single(await db.Events.Where(e => e.Name == name).ToListAsync());
        Assert.Equal(4, await db.Seats.CountAsync(s => s.EventId == evt.Id));
        Assert.Equal(evt.Id, (await created.Content.ReadFromJsonAsync<EventDto>())!.Id);
    }

    [Fact]
    public async Task A_registration_whose_reply_is_lost_answers_201_not_email_taken()
    {
        await using var proxy = new ReplyCuttingProxy(DatabaseHost(), DatabasePort());
        await using var api = await ServiceProcess.StartApiAsync(fixture, database: ThroughProxy(proxy));
        using var http = api.CreateClient();
        var email = TestApi.UniqueEmail();
        (await http.PostAsJsonAsync("/api/auth/register", new { email = TestApi.UniqueEmail(), password = "password123", name = "Warm-up" }))
            .EnsureSuccessStatusCode();

        proxy.CutReplyToNext("INSERT INTO `users`");
        var registered = await http.PostAsJsonAsync("/api/auth/register", new { email, password = "password123", name = "Lost Reply" });

        Assert.True(proxy.Cut.IsCompleted, "the reply was lost");
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        using var user = await fixture.LoginAsync(email, "password123");
        Assert.Equal(user.User.Id, (await registered.Content.ReadFromJsonAsync<UserDto>())!.Id);
    }

    [Fact]
    public async Task A_waitlist_join_whose_commit_reply_is_lost_answers_201_not_already_waiting()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 1);
        using var buyer = await fixture.NewUserAsync();
        await buyer.BookAsync(evt.Id, 1).BookedAsync();
        await using var proxy = new ReplyCuttingProxy(DatabaseHost(), DatabasePort());
        await using var api = await ServiceProcess.StartApiAsync(fixture, database: ThroughProxy(proxy));
        using var user = api.As(await fixture.NewUserAsync());
        (await user.Http.GetAsync("/api/waitlist")).EnsureSuccessStatusCode(); // warm: the test is about the retry

        proxy.CutReplyToNext(ReplyCuttingProxy.Commit);
        var joined = await user.JoinWaitlistAsync(evt.Id, 1);

        Assert.True(proxy.Cut.IsCompleted, "the reply was lost");
        Assert.Equal(HttpStatusCode.Created, joined.StatusCode);
        var entry = (await joined.Content.ReadFromJsonAsync<WaitlistEntryDto>())!;
        Assert.Equal(("waiting", 1), (entry.Status, entry.Position));
        Assert.Equal(entry.Id, Assert.Single((await user.Http.GetFromJsonAsync<PageDto<WaitlistEntryDto>>("/api/waitlist"))!.Items).Id);
    }

    [Fact]
    public async Task A_leave_whose_commit_reply_is_lost_still_wakes_the_worker_for_the_offer_it_passed_on()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 1);
        await using var proxy = new ReplyCuttingProxy(DatabaseHost(), DatabasePort());
        // Offers that stay open however slow the machine: this process makes them all.
        await using var api = await ServiceProcess.StartApiAsync(fixture, database: ThroughProxy(proxy),
            more: new Dictionary<string, string> { ["Evently__Waitlist__OfferSeconds"] = "600" });
        using var holder = api.As(await fixture.NewUserAsync());
        using var offered = api.As(await fixture.NewUserAsync());
        using var next = await fixture.NewUserAsync();
        var booking = await holder.BookAsync(evt.Id, 1).BookedAsync();
        var entry = await offered.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        await next.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))!);
        var nudges = 0;
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(WorkChannel.Name), (_, message) =>
        {
            if (message == "work")
            {
                Interlocked.Increment(ref nudges);
            }
        });
        Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
        await WaitlistTestApi.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref nudges) > 0), TimeSpan.FromSeconds(2), "the cancel's nudge");
        Interlocked.Exchange(ref nudges, 0);

        // The first try commits (the offer passes to the next in line) and its reply is lost; the retry finds the entry
        // left, and cannot see the offer its first try made: the worker must be woken to mail it all the same.
        proxy.CutReplyToNext(ReplyCuttingProxy.Commit);
        var left = await offered.Http.DeleteAsync($"/api/waitlist/{entry.Id}");

        Assert.True(proxy.Cut.IsCompleted, "the reply was lost");
        Assert.Equal(HttpStatusCode.NoContent, left.StatusCode);
        Assert.Equal("offered", (await next.Http.GetFromJsonAsync<PageDto<WaitlistEntryDto>>("/api/waitlist"))!.Items.Single().Status);
        await WaitlistTestApi.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref nudges) > 0), TimeSpan.FromSeconds(2), "the leave's nudge");
    }

    [Fact]
    public async Task An_Idempotency_Key_makes_one_event_and_answers_it_again()
    {
        using var admin = await fixture.AdminAsync();
        var key = Guid.NewGuid().ToString();
        var body = TestApi.NewEventBody();

        var first = await PostEventAsync(admin, body, key);
        var again = await PostEventAsync(admin, body, key);
        var other = await PostEventAsync(admin, TestApi.With(body, "capacity", 7), key);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (first.StatusCode, again.StatusCode));
        var made = (await first.Content.ReadFromJsonAsync<EventDto>())!;
        Assert.Equal(made.Id, (await again.Content.ReadFromJsonAsync<EventDto>())!.Id);
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal("idempotency-key-reused", (await other.ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Code());
        // One ledger: a key that created an event cannot also book.
        var booking = await admin.BookAsync(made.Id, 1, key);
        Assert.Equal("idempotency-key-reused", (await booking.ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Code());
    }

    [Fact]
    public async Task An_Idempotency_Key_answers_its_event_again_after_the_event_started()
    {
        using var admin = await fixture.AdminAsync();
        var key = Guid.NewGuid().ToString();
        // Far enough ahead for a slow machine to create it; the retry then waits for it to start.
        var startsAt = DateTime.UtcNow.AddSeconds(6);
        var body = TestApi.With(TestApi.NewEventBody(), "startsAt", startsAt);
        body["endsAt"] = startsAt.AddHours(1);
        var first = await PostEventAsync(admin, body, key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // The client's answer was lost, and its retry comes once the event has started: a new create would now be
        // refused (startsAt in the past), but the key already made this event.
        if (startsAt.AddMilliseconds(500) - DateTime.UtcNow is { Ticks: > 0 } wait)
        {
            await Task.Delay(wait);
        }
        var again = await PostEventAsync(admin, body, key);

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal((await first.Content.ReadFromJsonAsync<EventDto>())!.Id, (await again.Content.ReadFromJsonAsync<EventDto>())!.Id);
        // Without the key, or with another body under it, the rule stands.
        await (await admin.Http.PostAsJsonAsync("/api/events", body)).ReadProblemAsync(HttpStatusCode.BadRequest);
        await (await PostEventAsync(admin, new Dictionary<string, object?>(body) { ["capacity"] = 7 }, key)).ReadProblemAsync(HttpStatusCode.BadRequest);
    }

    private static Task<HttpResponseMessage> PostEventAsync(Caller admin, object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return admin.Http.SendAsync(request);
    }

    private string DatabaseHost() => new MySqlConnectionStringBuilder(fixture.DatabaseConnectionString).Server;

    private int DatabasePort() => (int)new MySqlConnectionStringBuilder(fixture.DatabaseConnectionString).Port;

    private string ThroughProxy(ReplyCuttingProxy proxy) =>
        new MySqlConnectionStringBuilder(fixture.DatabaseConnectionString) { Port = (uint)proxy.Port }.ConnectionString;
}
