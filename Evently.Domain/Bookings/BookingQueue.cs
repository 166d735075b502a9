using System.Diagnostics;
using System.Globalization;
using Evently.Domain.Common;
using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Domain.Bookings;

/// <summary>A booking request of a high-demand event, as queued on its Redis stream.</summary>
public sealed record QueuedRequest(
    long RequestId, long EventId, long UserId, int Quantity, IReadOnlyList<long>? SeatIds, long Sequence, DateTime QueuedAt,
    string? TraceParent, string? IdempotencyKey)
{
    /// <summary>The request as a booking command: what the direct path would be asked.</summary>
    public BookingCommand Command => new(UserId, EventId, SeatIds is null ? Quantity : null, SeatIds, IdempotencyKey);
}

/// <summary>
/// What the API answers about a request: queued (with how many are ahead and, once the drain rate is measured, about how
/// long that takes; or, before the opening, when the sale opens), confirmed or rejected.
/// </summary>
public sealed record QueuedRequestState(
    long RequestId, long EventId, long UserId, int Quantity, BookingRequestStatus Status, long? Position, long? BookingId, string? Reason,
    int? EstimatedWaitSeconds = null, DateTime? OpensAt = null, long? Sequence = null)
{
    public static QueuedRequestState From(BookingRequest answered) => new(answered.Id, answered.EventId, answered.UserId,
        answered.Quantity, answered.Status, null, answered.BookingId, answered.Reason);
}

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
/// The intake side of the high-demand queue in Redis (the API's): one Lua script appends a request to its event's
/// stream together with everything that must hold with it (the user's cap of queued tickets, the Idempotency-Key of
/// a request in flight, its position), or does nothing. Redis writes its append-only file before it replies, so an
/// accepted request survives a crash of Redis (see README). The worker's side is <see cref="QueueReader"/>.
/// </summary>
public sealed class BookingQueue(IConnectionMultiplexer redis, TimeProvider timeProvider)
{
    public const int MaxQueuedTicketsPerUser = 10;

    // After Redis lost an event's id counter, new ids start this far above the highest the database answered:
    // requests a worker had taken before the loss may still commit, and theirs are above that highest.
    private const long RequestIdGap = 1 << 16;

    // KEYS: stream, seq, ids, user tickets, the Idempotency-Key (the stream again when there is none), answered, opens,
    // opened, pre-queue, pre-queue arrivals, late, the pre-queue's drawn order.
    // ARGV: user, quantity, seats, fingerprint, queued at, traceparent, cap, key, id floor (-1: unknown), first id, prefix,
    // opening time (ms since the epoch; empty: on sale now).
    // Returns {outcome, request id, position (-1: not placed yet), first of a burst}: 0 queued, 1 replayed, 2 key reused,
    // 3 too many, 4 the id counter is gone (Redis lost it, or the event is new): ask again with the floor from the database.
    // Routed by Redis's clock, the one every replica shares: before the opening into the pre-queue (one request per
    // account), after it (or once the worker drew the pre-queue's order) but before the pre-queue is all placed in the
    // stream onto the late list (behind the pre-queue, first come, first served), else onto the stream.
    private static readonly RedisScript EnqueueScript = new("""
        local keyed = ARGV[8] ~= ''
        if keyed then
          local existing = redis.call('GET', KEYS[5])
          if existing then
            local sep = string.find(existing, '|', 1, true)
            local id = string.sub(existing, 1, sep - 1)
            if string.sub(existing, sep + 1) == ARGV[4] then return {1, id, 0, 0} end
            return {2, id, 0, 0}
          end
        end
        if ARGV[12] ~= '' then redis.call('SET', KEYS[7], ARGV[12]) else redis.call('DEL', KEYS[7]) end
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local opened = redis.call('EXISTS', KEYS[8]) == 1
        local early = ARGV[12] ~= '' and now < tonumber(ARGV[12]) and not opened and redis.call('EXISTS', KEYS[12]) == 0
        local late = not early and not opened and redis.call('EXISTS', KEYS[10]) == 1
        if early then
          local first = redis.call('HGET', KEYS[9], ARGV[1])
          if first then return {1, first, 0, 0} end
        end
        if redis.call('EXISTS', KEYS[3]) == 0 then
          if ARGV[9] == '-1' then return {4, '0', 0, 0} end
          redis.call('SET', KEYS[3], ARGV[9])
        end
        local quantity = tonumber(ARGV[2])
        if redis.call('INCRBY', KEYS[4], quantity) > tonumber(ARGV[7]) then
          if redis.call('DECRBY', KEYS[4], quantity) <= 0 then redis.call('DEL', KEYS[4]) end
          return {3, '0', 0, 0}
        end
        local id = string.format('%.0f', tonumber(ARGV[10]) + redis.call('INCR', KEYS[3]))
        redis.call('PERSIST', KEYS[3])
        local request = ARGV[11] .. 'request:' .. id
        if keyed then redis.call('SET', KEYS[5], id .. '|' .. ARGV[4]) end
        if early or late then
          -- No place yet: the request keeps what its stream entry will carry until the worker places it.
          redis.call('HSET', request, 'user', ARGV[1], 'qty', ARGV[2], 'status', 'queued', 'seats', ARGV[3], 'at', ARGV[5],
            'tp', ARGV[6], 'key', ARGV[8])
          if early then
            redis.call('HSET', KEYS[9], ARGV[1], id)
            return {0, id, -1, redis.call('RPUSH', KEYS[10], id) == 1 and 1 or 0}
          end
          -- The first late arrival wakes the workers: the opening has come (it may have just been moved earlier).
          return {0, id, -1, redis.call('RPUSH', KEYS[11], id) == 1 and 1 or 0}
        end
        local seq = redis.call('INCR', KEYS[2])
        redis.call('PERSIST', KEYS[1])
        redis.call('PERSIST', KEYS[2])
        redis.call('PERSIST', KEYS[6])
        redis.call('XADD', KEYS[1], '*', 'id', id, 'user', ARGV[1], 'qty', ARGV[2], 'seats', ARGV[3], 'seq', seq,
          'at', ARGV[5], 'tp', ARGV[6], 'key', ARGV[8])
        redis.call('HSET', request, 'user', ARGV[1], 'qty', ARGV[2], 'status', 'queued', 'seq', seq)
        local answered = tonumber(redis.call('GET', KEYS[6]) or '0')
        return {0, id, math.max(0, seq - answered - 1), redis.call('XLEN', KEYS[1]) == 1 and 1 or 0}
        """);

    /// <summary>Accepts a request: a promise, once this returns, that the worker will answer it exactly once.</summary>
    /// <param name="idFloor">Asked only when Redis has no id counter for the event: the highest request id the database answered for it, if any.</param>
    /// <param name="salesStartAt">When the event's sale opens (its facts): before it the request joins the pre-queue.</param>
    /// <returns>
    /// The outcome, the request's id (the first request's, for a replayed key or a second request before the opening)
    /// and, when placed in the stream, how many are ahead (null while it waits for the opening).
    /// </returns>
    public async Task<(EnqueueOutcome Outcome, long RequestId, long? Position)> EnqueueAsync(
        BookingCommand command, string fingerprint, Func<Task<long?>> idFloor, DateTime? salesStartAt = null)
    {
        var eventId = command.EventId;
        var db = redis.GetDatabase();
        RedisKey[] keys =
        [
            QueueKeys.Stream(eventId), QueueKeys.Sequence(eventId), QueueKeys.RequestIds(eventId), QueueKeys.UserTickets(eventId, command.UserId),
            command.IdempotencyKey is { } key ? QueueKeys.IdempotencyKey(eventId, command.UserId, key) : QueueKeys.Stream(eventId),
            QueueKeys.Answered(eventId), QueueKeys.Opens(eventId), QueueKeys.Opened(eventId), QueueKeys.PreQueue(eventId),
            QueueKeys.PreQueueArrivals(eventId), QueueKeys.Late(eventId), QueueKeys.PreQueueOrder(eventId)
        ];
        RedisValue[] args =
        [
            command.UserId, BookingRules.Tickets(command), command.SeatIds is { } ids ? string.Join(',', ids) : "", fingerprint,
            timeProvider.UtcNow().Ticks, Activity.Current?.Id ?? "", MaxQueuedTicketsPerUser, command.IdempotencyKey ?? "", -1,
            QueueKeys.FirstRequestId(eventId), QueueKeys.Prefix(eventId),
            salesStartAt is { } opens ? new DateTimeOffset(opens, TimeSpan.Zero).ToUnixTimeMilliseconds() : ""
        ];
        // The event is watched before the script runs, so a request the script queued is drained even if its reply is
        // lost and the repeat only replays it. Awaited first: on a cluster the watch bucket may be on another node, and
        // one that is down must refuse the request (503) before the script queues what no worker would look for.
        await db.SetAddAsync(QueueKeys.ActiveEventsOf(eventId), eventId);
        var result = (RedisResult[])(await EnqueueScript.EvaluateAsync(db, keys, args))!;
        if ((int)result[0] == 4)
        {
            var highest = await idFloor();
            args[8] = highest is { } answered ? answered - QueueKeys.FirstRequestId(eventId) + RequestIdGap : 0;
            result = (RedisResult[])(await EnqueueScript.EvaluateAsync(db, keys, args))!;
        }
        var outcome = (EnqueueOutcome)(int)result[0];
        if (outcome == EnqueueOutcome.Queued && (int)result[3] == 1)
        {
            // The first of a burst: a worker may have retired the event between the watch above and the script, as
            // its stream was empty. Watched again, and the workers woken (QueueReader.RetireIfEmptyAsync checks again
            // after it lets an event go).
            await db.SetAddAsync(QueueKeys.ActiveEventsOf(eventId), eventId);
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(WorkChannel.Name), "queue", CommandFlags.FireAndForget);
        }
        return (outcome, long.Parse((string)result[1]!, CultureInfo.InvariantCulture), (long)result[2] is >= 0 and var position ? position : null);
    }

    /// <summary>
    /// The request a user's Idempotency-Key is in flight for (queued, not yet answered), and whether it asked for the same
    /// booking: what the intake script would answer the key with, read without queuing anything. Null when none is.
    /// </summary>
    public async Task<(long RequestId, bool SameRequest)?> FindKeyInFlightAsync(BookingCommand command, string fingerprint)
    {
        if (command.IdempotencyKey is not { } key)
        {
            return null;
        }
        // As the intake script writes it: the request id, '|', the request's fingerprint.
        var value = (string?)await redis.GetDatabase().StringGetAsync(QueueKeys.IdempotencyKey(command.EventId, command.UserId, key));
        return value?.Split('|', 2) is [var id, var stored] ? (long.Parse(id, CultureInfo.InvariantCulture), stored == fingerprint) : null;
    }

    /// <summary>The request's state as Redis knows it, or null when Redis does not (the database may).</summary>
    public async Task<QueuedRequestState?> GetAsync(long requestId)
    {
        var db = redis.GetDatabase();
        var eventId = QueueKeys.EventOf(requestId);
        // One round trip: the request, and the event's figures its place is read against.
        var request = db.HashGetAllAsync(QueueKeys.Request(requestId));
        var figures = QueueFigures.ReadAsync(db, eventId);
        await Task.WhenAll(request, figures);
        var fields = request.Result.ToDictionary(f => f.Name.ToString(), f => f.Value);
        return fields.Count == 0 ? null : State(requestId, fields, figures.Result);
    }

    // KEYS: requests of one event (they share its slot). Returns each one's hash as a field/value list (empty: unknown).
    private static readonly RedisScript GetManyScript = new("""
        local found = {}
        for i, key in ipairs(KEYS) do found[i] = redis.call('HGETALL', key) end
        return found
        """);

    /// <summary>
    /// Requests of one event in one call, read against figures the caller already has: what a replica's streams of an
    /// event ask for together when the opening or a batch of answers reaches them all at once.
    /// </summary>
    public async Task<QueuedRequestState?[]> GetManyAsync(long eventId, IReadOnlyList<long> requestIds, QueueFigures figures)
    {
        var found = (RedisResult[])(await GetManyScript.EvaluateAsync(redis.GetDatabase(),
            requestIds.Select(id => (RedisKey)QueueKeys.Request(id)).ToArray(), []))!;
        return requestIds.Select((id, i) =>
        {
            var hash = (RedisResult[])found[i]!;
            var fields = Enumerable.Range(0, hash.Length / 2).ToDictionary(f => (string)hash[2 * f]!, f => (RedisValue)hash[2 * f + 1]);
            return fields.Count == 0 ? null : State(id, fields, figures);
        }).ToArray();
    }

    /// <summary>A request's state from its hash and its event's figures.</summary>
    public static QueuedRequestState State(long requestId, IReadOnlyDictionary<string, RedisValue> fields, QueueFigures figures)
    {
        var status = Enum.Parse<BookingRequestStatus>(fields["status"].ToString(), ignoreCase: true);
        long? position = null, sequence = fields.TryGetValue("seq", out var seq) ? (long)seq : null;
        DateTime? opensAt = null;
        if (status == BookingRequestStatus.Queued && sequence is { } placed)
        {
            position = figures.PositionOf(placed);
        }
        else if (status == BookingRequestStatus.Queued)
        {
            opensAt = figures.OpensAt;
        }
        return new QueuedRequestState(requestId, QueueKeys.EventOf(requestId), (long)fields["user"], (int)fields["qty"], status, position,
            fields.TryGetValue("booking", out var booking) ? (long)booking : null,
            fields.TryGetValue("reason", out var reason) ? reason.ToString() : null,
            position is { } ahead ? figures.EstimatedWaitSeconds(ahead) : null, opensAt, sequence);
    }

    /// <summary>
    /// Holds the drain (intake goes on): for an operator who wants to look before selling, and for the
    /// benchmark, which measures the intake and the drain one at a time. Every watch bucket holds it.
    /// </summary>
    public Task PauseAsync()
    {
        var db = redis.GetDatabase();
        return Task.WhenAll(Enumerable.Range(0, QueueKeys.WatchBuckets).Select(b => db.StringSetAsync(QueueKeys.Paused(b), 1)));
    }

    /// <summary>Lets the drain go on, and wakes the workers rather than leaving it to their next look.</summary>
    public async Task ResumeAsync()
    {
        var db = redis.GetDatabase();
        await Task.WhenAll(Enumerable.Range(0, QueueKeys.WatchBuckets).Select(b => db.KeyDeleteAsync(QueueKeys.Paused(b))));
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(WorkChannel.Name), "queue");
    }
}
