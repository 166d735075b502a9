using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MySqlConnector;

namespace Evently.LoadTest;

internal sealed record HighDemandResult(
    int Requests, int Accepted, IReadOnlyDictionary<int, int> OtherStatuses, double IntakeSeconds, double IntakeP50Ms, double IntakeP99Ms,
    double SecondsToLastAnswer, double SecondsToLastConfirmation, long Confirmed, long Rejected, long Booked, int Capacity, bool DrainHeld,
    int Buyers, long? Mails)
{
    public double IntakeRate => Accepted / IntakeSeconds;
    public double ConfirmationRate => Confirmed / SecondsToLastConfirmation;
    public double AnswerRate => (Confirmed + Rejected) / SecondsToLastAnswer;
    public bool Holds => Confirmed == Capacity && Booked == Capacity && Confirmed + Rejected == Accepted && Accepted == Requests;
}

/// <summary>
/// An on-sale of one high-demand event: many requests from many users, each answered 202 by the intake and
/// later confirmed or rejected by the worker. Users are inserted set-based and their tokens minted with the
/// run's signing key, so that seeding thousands of buyers costs no password hashing.
/// </summary>
internal static class HighDemandScenario
{
    public const string SigningKey = "evently-load-benchmark-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz";
    internal const int Users = 10_000;

    /// <param name="drainHeld">
    /// Hold the worker's drain (BookingQueue.PauseAsync) until every request is in: the intake and the drain
    /// are then measured one at a time, each with the machine to itself. Otherwise both run at once.
    /// </param>
    public static async Task<HighDemandResult> RunAsync(EventlyApi api, string connectionString, string redisConnectionString,
        int clients, int requests, int capacity, bool drainHeld)
    {
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redisConnectionString);
        var queue = new Evently.Domain.Bookings.BookingQueue(redis, TimeProvider.System);
        var adminToken = await api.LoginAsync("admin@evently.local", "evently-admin-dev");
        var startsAt = DateTimeOffset.UtcNow.AddDays(30);
        var evt = await api.CreateEventAsync(adminToken, new CreateEventRequest("Load test: the on-sale", "High-demand benchmark.",
            "Benchmark Arena", startsAt, startsAt.AddHours(3), capacity, HighDemand: true));
        var tokens = await SeedUsersAsync(connectionString, Users);
        await WaitForMailBacklogAsync(connectionString);
        // smtp4dev goes on storing what it was sent for a while after the worker is done sending.
        await CpuUse.WaitUntilIdleAsync("smtp4dev", TimeSpan.FromMinutes(2));

        Console.WriteLine($"Running the on-sale: {requests:N0} requests from {clients} clients ({Users:N0} users) for {capacity:N0} tickets"
            + (drainHeld ? ", drain held until the intake is done" : ", intake and drain at once"));
        if (drainHeld)
        {
            await queue.PauseAsync();
        }
        var next = -1;
        var samples = new ConcurrentBag<(int Status, double Ms)>();
        var clock = Stopwatch.StartNew();
        var cpu = CpuUse.Start();
        var intakeDone = false;
        // The worker's side, read from the database while the intake runs: every answer is a booking_requests row.
        var watch = WatchAnswersAsync(connectionString, evt.Id, capacity, clock, () => Volatile.Read(ref intakeDone) ? samples.Count(s => s.Status == 202) : null);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < requests)
            {
                var started = Stopwatch.GetTimestamp();
                var status = await api.QueueBookingAsync(tokens[n % Users], evt.Id);
                samples.Add((status, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            }
        })));
        var intakeSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"  CPU during the intake, % of one core: {cpu.Report()}");
        cpu = CpuUse.Start();
        Volatile.Write(ref intakeDone, true);
        var drainStart = 0.0;
        if (drainHeld)
        {
            drainStart = clock.Elapsed.TotalSeconds;
            await queue.ResumeAsync();
        }
        var (answered, lastConfirmation, lastAnswer, booked) = await watch;
        Console.WriteLine($"  CPU from the end of the intake to the last answer, % of one core: {cpu.Report()}");
        var accepted = samples.Count(s => s.Status == 202);
        var mails = await MailsSentForAsync(connectionString, evt.Id);

        var latencies = samples.Where(s => s.Status == 202).Select(s => s.Ms).Order().ToArray();
        return new HighDemandResult(requests, accepted,
            samples.Where(s => s.Status != 202).CountBy(s => s.Status).ToDictionary(), intakeSeconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.99), lastAnswer - drainStart, (lastConfirmation ?? lastAnswer) - drainStart,
            answered.Confirmed, answered.Rejected, booked, capacity, drainHeld, Math.Min(requests, Users), mails);
    }

    // An earlier on-sale leaves up to one e-mail per request to send: measured alongside, it would be charged to this one.
    public static async Task WaitForMailBacklogAsync(string connectionString)
    {
        await using var db = new MySqlConnection(connectionString);
        await db.OpenAsync();
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            var unsent = Convert.ToInt64(await new MySqlCommand(
                "SELECT COUNT(*) FROM notifications WHERE EmailedAt IS NULL AND EmailFailedAt IS NULL", db).ExecuteScalarAsync());
            if (unsent == 0)
            {
                return;
            }
            if (waited.Elapsed < TimeSpan.FromMilliseconds(100))
            {
                Console.WriteLine($"Waiting for the worker to send {unsent:N0} e-mails of the earlier scenarios...");
            }
            await Task.Delay(500);
        }
    }

    /// <summary>
    /// The mails sent for the event's notifications, once every one is sent (null if that takes longer than three
    /// minutes). Counted in the database, not in smtp4dev, which keeps only its last 100 mails (keeping every mail slows
    /// it down as they pile up): the notifications one mail carries are recorded as sent in one statement, with one
    /// time, so a mail is a user and a sent time.
    /// </summary>
    private static async Task<long?> MailsSentForAsync(string connectionString, long eventId)
    {
        await using var db = new MySqlConnection(connectionString);
        await db.OpenAsync();
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            var unsent = Convert.ToInt64(await new MySqlCommand(
                $"SELECT COUNT(*) FROM notifications WHERE EventId = {eventId} AND EmailedAt IS NULL AND EmailFailedAt IS NULL", db).ExecuteScalarAsync());
            if (unsent == 0)
            {
                return Convert.ToInt64(await new MySqlCommand(
                    $"SELECT COUNT(DISTINCT UserId, EmailedAt) FROM notifications WHERE EventId = {eventId} AND EmailedAt IS NOT NULL", db).ExecuteScalarAsync());
            }
            await Task.Delay(500);
        }
        return null;
    }

    // Polls the answers until every accepted request has one (the total is known once the intake is done).
    private static async Task<((long Confirmed, long Rejected) Answered, double? LastConfirmation, double LastAnswer, long Booked)> WatchAnswersAsync(
        string connectionString, long eventId, int capacity, Stopwatch clock, Func<int?> acceptedOnceDone)
    {
        await using var db = new MySqlConnection(connectionString);
        await db.OpenAsync();
        double? lastConfirmation = null;
        (long Confirmed, long Rejected) answered;
        while (true)
        {
            answered = await CountAnswersAsync(db, eventId);
            if (lastConfirmation is null && answered.Confirmed >= capacity)
            {
                lastConfirmation = clock.Elapsed.TotalSeconds;
            }
            if ((acceptedOnceDone() is { } accepted && answered.Confirmed + answered.Rejected >= accepted) || clock.Elapsed > TimeSpan.FromMinutes(10))
            {
                break;
            }
            await Task.Delay(50);
        }
        var lastAnswer = clock.Elapsed.TotalSeconds;
        var booked = Convert.ToInt64(await new MySqlCommand($"SELECT Booked FROM events WHERE Id = {eventId}", db).ExecuteScalarAsync());
        return (answered, lastConfirmation, lastAnswer, booked);
    }

    private static async Task<(long, long)> CountAnswersAsync(MySqlConnection db, long eventId)
    {
        await using var command = new MySqlCommand(
            $"SELECT COALESCE(SUM(Status = 'Confirmed'), 0), COALESCE(SUM(Status = 'Rejected'), 0) FROM booking_requests WHERE EventId = {eventId}", db);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)));
    }

    // One INSERT ... SELECT over MariaDB's sequence engine, then one token per user, signed like the API's own.
    internal static async Task<string[]> SeedUsersAsync(string connectionString, int count)
    {
        var prefix = $"hd{DateTime.UtcNow:HHmmss}";
        await using var db = new MySqlConnection(connectionString);
        await db.OpenAsync();
        await new MySqlCommand($"""
            INSERT INTO users (Email, NormalizedEmail, Name, PasswordHash, Role, CreatedAt)
            SELECT CONCAT('{prefix}-', seq, '@example.com'), UPPER(CONCAT('{prefix}-', seq, '@example.com')), CONCAT('Buyer ', seq),
                   'not-a-password-hash', 'user', UTC_TIMESTAMP(6)
            FROM seq_1_to_{count}
            """, db).ExecuteNonQueryAsync();
        var users = new List<(long Id, string Email)>();
        await using (var reader = await new MySqlCommand($"SELECT Id, Email FROM users WHERE Email LIKE '{prefix}-%' ORDER BY Id", db).ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                users.Add((reader.GetInt64(0), reader.GetString(1)));
            }
        }

        var handler = new JsonWebTokenHandler();
        var credentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(SigningKey)), SecurityAlgorithms.HmacSha256);
        return users.Select(user => handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "evently",
            Audience = "evently-api",
            Expires = DateTime.UtcNow.AddHours(1),
            Subject = new ClaimsIdentity([new Claim("sub", user.Id.ToString()), new Claim("email", user.Email), new Claim("role", "user")]),
            SigningCredentials = credentials
        })).ToArray();
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
