using Evently.AppHost.Infrastructure;
using Evently.Tests.Bookings;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Evently.Tests.Foundation;

/// <summary>
/// A Redis that is up but answers errors (out of memory, a read-only replica after a failover, unable to persist)
/// is a Redis that cannot serve: every request goes on as with Redis gone (a rate limit per replica, the cache
/// bypassed, 503 with Retry-After on the queue path, admin changes shown at once), never a 500.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class RedisErrorRepliesTests(EventlyAppFixture fixture, ITestOutputHelper output)
{
    // Limits under 40 make every request ask Redis for its token (a replica takes a twentieth of the limit at a time).
    private static readonly Dictionary<string, string> EveryRequestAsksRedis = new()
    {
        ["Evently__RateLimiting__UserTokenLimit"] = "39",
        ["Evently__RateLimiting__AnonymousTokenLimit"] = "39",
        ["Evently__RateLimiting__AuthTokenLimit"] = "39"
    };

    [Fact]
    public async Task Redis_refusing_work_with_OOM_READONLY_or_MISCONF_is_an_outage_and_no_request_answers_500()
    {
        await using var redis = await RedisServerProcess.StartAsync("yes", "everysec");
        var connection = redis.ConnectionString + ",abortConnect=false";
        await using var api = await ServiceProcess.StartApiAsync(fixture, redis: connection, more: EveryRequestAsksRedis);
        // A second replica on the same Redis, which keeps its rate limit tokens in memory: it reads Redis's cache.
        await using var other = await ServiceProcess.StartApiAsync(fixture, redis: connection);
        using var admin = await fixture.AdminAsync();
        using var member = await fixture.NewUserAsync();
        using var queuer = api.As(member);
        using var adminOnApi = api.As(admin);
        using var anonymous = api.CreateClient();
        var normal = await admin.CreateEventAsync(capacity: 100);
        var queue = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 100, highDemand: true));
        var flippingBody = TestApi.NewEventBody(capacity: 100);
        var flipping = await admin.CreateEventAsync(flippingBody);
        // While Redis serves: a queued request, and the flipping event's facts in Redis's cache (a plain event).
        var first = await queuer.BookAsync(queue.Id, 1);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var queued = (await first.Content.ReadFromJsonAsync<BookingRequestDto>())!;
        using (var reader = other.As(member))
        {
            await reader.BookAsync(flipping.Id, 1).BookedAsync();
        }

        (string Reply, Func<Task> Provoke, Func<Task> Heal)[] faults =
        [
            ("OOM", () => redis.CommandAsync("CONFIG", "SET", "maxmemory", "1", "maxmemory-policy", "noeviction"),
                () => redis.CommandAsync("CONFIG", "SET", "maxmemory", "0")),
            // A replica of a primary that is gone, as after a failover that moved the primary elsewhere.
            ("READONLY", () => redis.CommandAsync("REPLICAOF", "127.0.0.1", LocalProcesses.FreePort()),
                () => redis.CommandAsync("REPLICAOF", "NO", "ONE")),
            // A snapshot that cannot be written (its directory is gone, as a full or failed disk would make it).
            ("MISCONF", () => FailSnapshotsAsync(redis), () => redis.CliAsync("CONFIG", "SET", "save", ""))
        ];
        var answers = new List<(string What, HttpStatusCode Status)>();
        var highDemand = false;
        foreach (var (reply, provoke, heal) in faults)
        {
            // A user of its own for each fault: this replica's limit (39 per 10 s) is the test's, not the fault's.
            using var newcomer = await fixture.NewUserAsync();
            using var user = api.As(newcomer);
            using var userOnOther = other.As(newcomer);
            await provoke();
            // The fault is real: a write to this Redis is refused with that reply.
            // (Through redis-cli: a Redis that cannot persist refuses even the PING of a client's handshake.)
            Assert.StartsWith(reply, await redis.CliReplyAsync("SET", "evently:test:probe", "1"));

            var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { email = newcomer.User.Email, password = "password123" });
            var booking = await user.BookAsync(normal.Id, 1);
            var intake = await user.BookAsync(queue.Id, 1);
            var request = await queuer.Http.GetAsync($"/api/bookings/requests/{queued.RequestId}");
            var list = await anonymous.GetAsync("/api/events?pageSize=5");
            var read = await anonymous.GetAsync($"/api/events/{normal.Id}");
            var seats = await anonymous.GetAsync($"/api/events/{normal.Id}/seats");
            var mine = await user.Http.GetAsync("/api/bookings");
            // An admin change on one replica shows at once on the other, although Redis cannot count it.
            highDemand = !highDemand;
            var change = await adminOnApi.Http.PutAsJsonAsync($"/api/events/{flipping.Id}", TestApi.With(flippingBody, "highDemand", highDemand));
            var afterChange = await userOnOther.BookAsync(flipping.Id, 1);
            answers.AddRange(new[] { ("login", login), ("booking", booking), ("intake", intake), ("request", request), ("list", list),
                    ("read", read), ("seats", seats), ("my bookings", mine), ("change", change), ("booking after the change", afterChange) }
                .Select(a => ($"{reply}: {a.Item1}", a.Item2.StatusCode)));
            output.WriteLine($"{reply}: " + string.Join(", ", answers.Where(a => a.What.StartsWith(reply)).Select(a => $"{a.What[(reply.Length + 2)..]} {(int)a.Status}")));

            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            Assert.Equal(HttpStatusCode.Created, booking.StatusCode);
            Assert.Equal("unavailable", (await intake.ReadProblemAsync(HttpStatusCode.ServiceUnavailable)).Code());
            Assert.NotNull(intake.Headers.RetryAfter);
            Assert.Equal("queued", (await request.Content.ReadFromJsonAsync<BookingRequestDto>())!.Status);
            Assert.All(new[] { list, read, seats, mine, change }, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            // Booked directly while the event is plain; refused by the unavailable queue once it is high-demand.
            Assert.Equal(highDemand ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.Created, afterChange.StatusCode);

            await heal();
            var back = await WaitlistTestApi.EventuallyAsync(async () =>
                {
                    await Task.Delay(200);
                    return (await user.BookAsync(queue.Id, 1)).StatusCode == HttpStatusCode.Accepted;
                }, TimeSpan.FromSeconds(10), $"{reply}: the queue's intake once Redis is healed");
            output.WriteLine($"{reply}: queuing again {back.TotalMilliseconds:F0} ms after the heal");
        }
        Assert.DoesNotContain(answers, a => (int)a.Status >= 500 && a.Status != HttpStatusCode.ServiceUnavailable);
    }

    // Redis refuses writes once a snapshot it was told to make has failed: no directory to write it in.
    private static async Task FailSnapshotsAsync(RedisServerProcess redis)
    {
        Directory.Delete(redis.DataDirectory, recursive: true);
        await redis.CommandAsync("CONFIG", "SET", "save", "3600 1");
        await redis.CommandAsync("BGSAVE");
        await WaitlistTestApi.EventuallyAsync(async () => (await redis.CliReplyAsync("INFO", "persistence")).Contains("rdb_last_bgsave_status:err"),
            TimeSpan.FromSeconds(10), "a failed snapshot");
    }
}
