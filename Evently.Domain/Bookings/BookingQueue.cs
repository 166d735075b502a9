using System.Diagnostics;
using System.Globalization;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Domain.Bookings;

/// <summary>A booking request of a high-demand event, as queued on its Redis stream.</summary>
public sealed record QueuedRequest(
    long RequestId, long EventId, long UserId, int Quantity, IReadOnlyList<long>? SeatIds, long Sequence, DateTime QueuedAt,
    string? TraceParent, string? IdempotencyKey);

/// <summary>What the API answers about a request: queued (with how many are ahead), confirmed or rejected.</summary>
public sealed record QueuedRequestState(
    long RequestId, long EventId, long UserId, int Quantity, BookingRequestStatus Status, long? Position, long? BookingId, string? Reason);

/// <summary>The outcome of a queued request, decided by the worker in one transaction per batch.</summary>
public sealed record QueuedAnswer(QueuedRequest Request, BookingRequestStatus Status, long? BookingId, string? Reason);

public enum EnqueueOutcome
{
    Queued,
    Replayed,
    KeyReused,
    TooManyQueued
}

/// <summary>
/// The Redis side of the high-demand queue, shared by the API (intake, status) and the worker (drain):
/// one stream per event, read by one worker at a time (a lease) through a consumer group, so each event's
/// requests are answered in the order they were accepted. Intake is one Lua script: the per-user cap,
/// the Idempotency-Key, the sequence number and the stream entry are written together or not at all.
/// Redis writes its append-only file before it replies, so an accepted request survives a crash of Redis (see README).
/// </summary>
public sealed class BookingQueue(IConnectionMultiplexer redis, TimeProvider timeProvider)
{
    /// <summary>False while Redis cannot serve (<see cref="RedisConnection.IsUsable"/>): nothing can be queued.</summary>
    public bool IsAvailable => redis.IsUsable();

    public const int MaxQueuedTicketsPerUser = 10;
    public const string ConsumerGroup = "drainers";
    private const string ActiveEvents = "evently:queue:events";
    private static readonly TimeSpan AnsweredRequestLifetime = TimeSpan.FromDays(7);

    private static string Stream(long eventId) => $"evently:queue:{eventId}:stream";
    private static string Sequence(long eventId) => $"evently:queue:{eventId}:seq";
    private static string Answered(long eventId) => $"evently:queue:{eventId}:answered";
    private static string UserTickets(long eventId, long userId) => $"evently:queue:{eventId}:user:{userId}";
    private static string Lease(long eventId) => $"evently:queue:{eventId}:lease";
    private static string Request(long requestId) => $"evently:request:{requestId}";

    // KEYS: stream, seq, user tickets, idempotency key (or "-"), active events, request ids.
    // ARGV: event, user, quantity, seats, fingerprint, queued at, traceparent, cap, idempotency key.
    // Returns {status, requestId, position}: 0 queued, 1 replayed, 2 key reused, 3 too many queued.
    // A request id is Redis's clock in milliseconds times 1024 plus a counter: unique while fewer than 1,024 arrive in
    // one millisecond, and never one the database already holds, even from a Redis that lost its data. (Under 2^53
    // until the year 2248, so JSON clients read it exactly; kept as a string in the script, as Lua would print it in
    // exponent notation.)
    private static readonly RedisScript EnqueueScript = new("""
        if KEYS[4] ~= '-' then
          local existing = redis.call('GET', KEYS[4])
          if existing then
            local sep = string.find(existing, '|', 1, true)
            local id = string.sub(existing, 1, sep - 1)
            if string.sub(existing, sep + 1) == ARGV[5] then return {1, tonumber(id), 0} end
            return {2, tonumber(id), 0}
          end
        end
        local quantity = tonumber(ARGV[3])
        if redis.call('INCRBY', KEYS[3], quantity) > tonumber(ARGV[8]) then
          redis.call('DECRBY', KEYS[3], quantity)
          return {3, 0, 0}
        end
        local time = redis.call('TIME')
        local id = string.format('%.0f',
          (tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)) * 1024 + redis.call('INCR', KEYS[6]) % 1024)
        local seq = redis.call('INCR', KEYS[2])
        redis.call('XADD', KEYS[1], '*', 'id', id, 'user', ARGV[2], 'qty', ARGV[3], 'seats', ARGV[4], 'seq', seq,
          'at', ARGV[6], 'tp', ARGV[7], 'key', ARGV[9])
        redis.call('HSET', 'evently:request:' .. id, 'user', ARGV[2], 'event', ARGV[1], 'qty', ARGV[3], 'status', 'queued', 'seq', seq)
        if KEYS[4] ~= '-' then redis.call('SET', KEYS[4], id .. '|' .. ARGV[5]) end
        if redis.call('SADD', KEYS[5], ARGV[1]) == 1 then redis.call('PUBLISH', 'evently:work', 'queue') end
        local answered = tonumber(redis.call('GET', 'evently:queue:' .. ARGV[1] .. ':answered') or '0')
        return {0, tonumber(id), math.max(0, seq - answered - 1)}
        """);

    /// <summary>Accepts a request: a promise, once this returns, that the worker will answer it exactly once.</summary>
    /// <returns>The outcome, the request's id (the first request's, for a replayed key) and, when queued, how many are ahead.</returns>
    public async Task<(EnqueueOutcome Outcome, long RequestId, long Position)> EnqueueAsync(BookingCommand command)
    {
        var key = command.IdempotencyKey is { } k ? $"evently:idem:{command.UserId}:{k}" : "-";
        var seats = command.SeatIds is { } ids ? string.Join(',', ids) : "";
        var result = (RedisResult[])(await EnqueueScript.EvaluateAsync(redis.GetDatabase(),
            [Stream(command.EventId), Sequence(command.EventId), UserTickets(command.EventId, command.UserId), key, ActiveEvents,
                "evently:requests:id"],
            [command.EventId, command.UserId, BookingRules.Tickets(command), seats, BookingRules.Fingerprint(command),
                timeProvider.UtcNow().Ticks, Activity.Current?.Id ?? "", MaxQueuedTicketsPerUser, command.IdempotencyKey ?? ""]))!;
        return ((EnqueueOutcome)(int)result[0], (long)result[1], (long)result[2]);
    }

    /// <summary>The request's state as Redis knows it, or null when Redis does not (the database may).</summary>
    public async Task<QueuedRequestState?> GetAsync(long requestId)
    {
        var db = redis.GetDatabase();
        var fields = (await db.HashGetAllAsync(Request(requestId))).ToDictionary(f => f.Name.ToString(), f => f.Value);
        if (fields.Count == 0)
        {
            return null;
        }
        var eventId = (long)fields["event"];
        var status = Enum.Parse<BookingRequestStatus>(fields["status"].ToString(), ignoreCase: true);
        long? position = null;
        if (status == BookingRequestStatus.Queued)
        {
            var answered = (long?)await db.StringGetAsync(Answered(eventId)) ?? 0;
            position = Math.Max(0, (long)fields["seq"] - answered - 1);
        }
        return new QueuedRequestState(requestId, eventId, (long)fields["user"], (int)fields["qty"], status, position,
            fields.TryGetValue("booking", out var booking) ? (long)booking : null,
            fields.TryGetValue("reason", out var reason) ? reason.ToString() : null);
    }

    // The worker's side.

    public async Task<IReadOnlyList<long>> ActiveEventsAsync() =>
        (await redis.GetDatabase().SetMembersAsync(ActiveEvents)).Select(v => (long)v).ToList();

    /// <summary>Takes (or renews) the right to drain an event's stream: one worker per event keeps its order.</summary>
    public async Task<bool> TryLeaseAsync(long eventId, string worker, TimeSpan lifetime) =>
        (long)(await LeaseScript.EvaluateAsync(redis.GetDatabase(), [Lease(eventId)], [worker, (long)lifetime.TotalMilliseconds])) == 1;

    // Take the lease if free, or renew it if it is this worker's: one step, so it is never renewed for another.
    private static readonly RedisScript LeaseScript = new("""
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        return 0
        """);

    /// <summary>
    /// The next requests of the event, oldest first: first those a dead worker took and never answered
    /// (idle longer than a lease), then new ones.
    /// </summary>
    public async Task<List<(RedisValue EntryId, QueuedRequest Request)>> ReadAsync(long eventId, string worker, int count, TimeSpan orphanedAfter)
    {
        var db = redis.GetDatabase();
        try
        {
            await db.StreamCreateConsumerGroupAsync(Stream(eventId), ConsumerGroup, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP"))
        {
            // Created before.
        }

        var orphaned = await db.StreamAutoClaimAsync(Stream(eventId), ConsumerGroup, worker, (long)orphanedAfter.TotalMilliseconds, "0-0", count);
        var mine = await db.StreamReadGroupAsync(Stream(eventId), ConsumerGroup, worker, "0", count);
        var entries = orphaned.ClaimedEntries.Concat(mine).DistinctBy(e => e.Id).ToList();
        if (entries.Count == 0)
        {
            entries = (await db.StreamReadGroupAsync(Stream(eventId), ConsumerGroup, worker, ">", count)).ToList();
        }
        return entries.Where(e => !e.IsNull).Select(e => (e.Id, Parse(eventId, e))).OrderBy(e => e.Item2.Sequence).ToList();
    }

    private static QueuedRequest Parse(long eventId, StreamEntry entry)
    {
        string Field(string name) => entry[name].ToString();
        return new QueuedRequest(
            long.Parse(Field("id"), CultureInfo.InvariantCulture), eventId, long.Parse(Field("user"), CultureInfo.InvariantCulture),
            int.Parse(Field("qty"), CultureInfo.InvariantCulture),
            Field("seats") is { Length: > 0 } seats ? seats.Split(',').Select(long.Parse).ToList() : null,
            long.Parse(Field("seq"), CultureInfo.InvariantCulture),
            new DateTime(long.Parse(Field("at"), CultureInfo.InvariantCulture), DateTimeKind.Utc),
            Field("tp") is { Length: > 0 } tp ? tp : null,
            Field("key") is { Length: > 0 } key ? key : null);
    }

    private const string Paused = "evently:queue:paused";

    /// <summary>
    /// Holds the drain (intake goes on): for an operator who wants to look before selling, and for the
    /// benchmark, which measures the intake and the drain one at a time.
    /// </summary>
    public Task PauseAsync() => redis.GetDatabase().StringSetAsync(Paused, 1);

    /// <summary>Lets the drain go on, and wakes the workers rather than leaving it to their next look.</summary>
    public async Task ResumeAsync()
    {
        await redis.GetDatabase().KeyDeleteAsync(Paused);
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(WorkChannel.Name), "queue");
    }

    public Task<bool> IsPausedAsync() => redis.GetDatabase().KeyExistsAsync(Paused);

    /// <summary>How many requests of the event wait in its stream (answered ones are deleted from it).</summary>
    public Task<long> DepthAsync(long eventId) => redis.GetDatabase().StreamLengthAsync(Stream(eventId));

    /// <summary>Forgets an event whose stream is empty, atomically with intake (which adds it back).</summary>
    public Task RetireIfEmptyAsync(long eventId) => redis.GetDatabase().ScriptEvaluateAsync(
        "if redis.call('XLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end return 1",
        [Stream(eventId), ActiveEvents], [eventId]);

    // KEYS: stream, answered, active events. ARGV: event id, highest sequence answered, lifetime of an answer
    // (seconds), then six values per request: entry id, request id, user, quantity, status, booking id or reason.
    // A request still 'queued' gives its user's tickets back once; a second run for the same answers changes nothing.
    private static readonly RedisScript AcknowledgeScript = new("""
        local i = 4
        while i <= #ARGV do
          local entry, id, user, qty, status, value = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
          i = i + 6
          local key = 'evently:request:' .. id
          if redis.call('HGET', key, 'status') == 'queued' then
            redis.call('DECRBY', 'evently:queue:' .. ARGV[1] .. ':user:' .. user, qty)
          end
          redis.call('HSET', key, 'user', user, 'event', ARGV[1], 'qty', qty, 'status', status,
            status == 'confirmed' and 'booking' or 'reason', value)
          redis.call('EXPIRE', key, ARGV[3])
          redis.call('XACK', KEYS[1], 'drainers', entry)
          redis.call('XDEL', KEYS[1], entry)
        end
        local answered = tonumber(redis.call('GET', KEYS[2]) or '0')
        if tonumber(ARGV[2]) > answered then redis.call('SET', KEYS[2], ARGV[2]) end
        if redis.call('XLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) end
        return 1
        """);

    /// <summary>
    /// Publishes the answers the database committed: each request's state, the users' queued tickets, the
    /// position counter; then acknowledges and trims the entries. Safe to run again for the same answers.
    /// </summary>
    public async Task AcknowledgeAsync(long eventId, IReadOnlyList<(RedisValue EntryId, QueuedAnswer Answer)> answered)
    {
        if (answered.Count == 0)
        {
            return;
        }
        var args = new List<RedisValue> { eventId, answered.Max(a => a.Answer.Request.Sequence), (long)AnsweredRequestLifetime.TotalSeconds };
        foreach (var (entryId, answer) in answered)
        {
            var confirmed = answer.Status == BookingRequestStatus.Confirmed;
            args.AddRange([entryId, answer.Request.RequestId, answer.Request.UserId, answer.Request.Quantity,
                confirmed ? "confirmed" : "rejected", confirmed ? answer.BookingId!.Value : answer.Reason]);
        }
        await AcknowledgeScript.EvaluateAsync(redis.GetDatabase(), [Stream(eventId), Answered(eventId), ActiveEvents], args.ToArray());
    }
}
