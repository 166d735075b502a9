using System.Security.Cryptography;
using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Domain.Bookings;

/// <summary>
/// The opening of a high-demand sale, done by the worker that holds the event's lease: once Redis's clock passes the
/// opening time, the pre-queue's order is drawn (cryptographically random) and stored once (a second worker, or a
/// repeat after a worker died, finds it drawn), then placed in the stream a step at a time, each step one script that
/// places the next requests of the order, and the last one the late arrivals behind them in the order they came and the
/// <c>opened</c> flag. A step holds Redis for tens of milliseconds rather than the whole pre-queue's second, and the
/// drain answers the first requests while the rest are placed; whoever holds the lease next goes on with the same order.
/// </summary>
public sealed class QueueOpening(IConnectionMultiplexer redis)
{
    // KEYS: opens, opened, pre-queue arrivals, late, order. Returns {1} when the stream may be drained (no pre-queue waits),
    // {0, ms until the opening}, {2, arrivals...} when the opening has come and the pre-queue's order is to be drawn, or
    // {3} when it was drawn and is being placed.
    private static readonly RedisScript DueScript = new("""
        if redis.call('EXISTS', KEYS[2]) == 1 or (redis.call('EXISTS', KEYS[3]) == 0 and redis.call('EXISTS', KEYS[4]) == 0) then
          return {1}
        end
        if redis.call('EXISTS', KEYS[5]) == 1 then return {3} end
        local opens = tonumber(redis.call('GET', KEYS[1]) or '')
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        if opens and now < opens then return {0, opens - now} end
        local due = redis.call('LRANGE', KEYS[3], 0, -1)
        table.insert(due, 1, 2)
        return due
        """);

    // KEYS: opened, order, opens, pre-queue arrivals, drain rate. ARGV: the pre-queue's ids in the drawn order. Stores the
    // order unless one was stored before, the opening was moved later, or a request joined the pre-queue since the draw
    // (the caller draws again). From then on the intake puts new requests behind the pre-queue. Returns 1 when stored.
    private static readonly RedisScript StoreOrderScript = new("""
        if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
        local opens = tonumber(redis.call('GET', KEYS[3]) or '')
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        if (opens and now < opens) or redis.call('LLEN', KEYS[4]) ~= #ARGV then return 0 end
        for i = 1, #ARGV, 1000 do redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
        redis.call('HSET', KEYS[5], 'at', now)
        redis.call('EXPIRE', KEYS[5], 3600)
        return 1
        """);

    // KEYS: stream, seq, opened, pre-queue, pre-queue arrivals, late, order. ARGV: the event's key prefix, the channel, how
    // many to place. Places the next ids of the stored order that are still a pre-queued request of their user, each with
    // the next seq; once the order is used up, the late arrivals in the order they came, and marks the sale opened.
    // Returns how many were placed; -1 when the sale had opened before, -2 when no order is stored. The places are
    // announced on the channel (QueueAnnouncement).
    private static readonly RedisScript PlaceScript = new("""
        if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
        if redis.call('EXISTS', KEYS[7]) == 0 and redis.call('EXISTS', KEYS[5]) == 1 then return -2 end
        local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
        local placed = 0
        local announced = {}
        local function place(id, prequeued)
          local request = ARGV[1] .. 'request:' .. id
          local f = redis.call('HMGET', request, 'user', 'qty', 'seats', 'at', 'tp', 'key', 'status', 'seq')
          if not f[1] or f[7] ~= 'queued' or f[8] then return end
          if prequeued and redis.call('HGET', KEYS[4], f[1]) ~= id then return end
          seq = seq + 1
          redis.call('XADD', KEYS[1], '*', 'id', id, 'user', f[1], 'qty', f[2], 'seats', f[3], 'seq', seq, 'at', f[4], 'tp', f[5], 'key', f[6])
          redis.call('HSET', request, 'seq', seq)
          redis.call('HDEL', request, 'seats', 'at', 'tp', 'key')
          placed = placed + 1
          announced[placed] = id .. ' ' .. seq
        end
        for _, id in ipairs(redis.call('LPOP', KEYS[7], ARGV[3]) or {}) do place(id, true) end
        if redis.call('EXISTS', KEYS[7]) == 0 then
          for _, id in ipairs(redis.call('LRANGE', KEYS[6], 0, -1)) do place(id, false) end
          redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
          redis.call('SET', KEYS[3], 1)
        end
        redis.call('SET', KEYS[2], seq)
        redis.call('PERSIST', KEYS[1])
        if placed > 0 then redis.call('PUBLISH', ARGV[2], 'placed\n' .. table.concat(announced, '\n')) end
        return placed
        """);

    // KEYS: opens. ARGV: the opening (ms since the epoch; empty: on sale now). Only a queue the intake has met keeps one.
    private static readonly RedisScript MoveScript = new("""
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        if ARGV[1] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1]) end
        return 1
        """);

    /// <summary>
    /// Carries the event's opening time, as the database now has it, to its queue: a pre-queue opens when the admin said,
    /// not at the time it was told first, and at once (null) when the event is on sale now or was cancelled. The API
    /// does it with the change, the intake with every request, the drain while a pre-queue waits. Wake the workers after it.
    /// </summary>
    /// <returns>False when Redis cannot serve: then the intake or the drain carries it later.</returns>
    public async Task<bool> MoveAsync(long eventId, DateTime? salesStartAt)
    {
        try
        {
            await MoveScript.EvaluateAsync(redis.GetDatabase(), [QueueKeys.Opens(eventId)],
                [salesStartAt is { } opens ? new DateTimeOffset(opens, TimeSpan.Zero).ToUnixTimeMilliseconds() : ""]);
            return true;
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            return false;
        }
    }

    /// <summary>
    /// For the event's lease holder, before it drains: null when the stream may be drained; otherwise how long until
    /// the sale opens (nothing is drained before). From the opening, each call places the pre-queue's next requests, at
    /// most <paramref name="placedPerStep"/>, then the late arrivals with the last of them.
    /// </summary>
    public async Task<TimeSpan?> OpenIfDueAsync(long eventId, int placedPerStep)
    {
        var db = redis.GetDatabase();
        var due = (RedisResult[])(await DueScript.EvaluateAsync(db,
            [QueueKeys.Opens(eventId), QueueKeys.Opened(eventId), QueueKeys.PreQueueArrivals(eventId), QueueKeys.Late(eventId),
                QueueKeys.PreQueueOrder(eventId)], []))!;
        switch ((int)due[0])
        {
            case 1:
                return null;
            case 0:
                return TimeSpan.FromMilliseconds((long)due[1]);
            case 2:
                // Drawn before anything is written, and stored in one step: a worker killed in between leaves the
                // pre-queue as it was, for the next lease holder to draw its own order.
                var order = due.Skip(1).Select(id => (RedisValue)(string)id!).ToArray();
                RandomNumberGenerator.Shuffle(order.AsSpan());
                await StoreOrderAsync(eventId, order);
                break;
        }
        // Not stored (the opening moved, or a request joined meanwhile): look again at once.
        return await PlaceNextAsync(eventId, placedPerStep) == -2 ? TimeSpan.Zero : null;
    }

    /// <returns>True when this order was stored; false when one was before, or the pre-queue or its opening changed since the draw.</returns>
    public async Task<bool> StoreOrderAsync(long eventId, RedisValue[] order) =>
        (long)await StoreOrderScript.EvaluateAsync(redis.GetDatabase(),
            [QueueKeys.Opened(eventId), QueueKeys.PreQueueOrder(eventId), QueueKeys.Opens(eventId), QueueKeys.PreQueueArrivals(eventId),
                QueueKeys.DrainRate(eventId)],
            order) == 1;

    /// <returns>How many requests were placed; -1 when the event had opened before; -2 when no order is stored.</returns>
    public async Task<long> PlaceNextAsync(long eventId, int count) =>
        (long)await PlaceScript.EvaluateAsync(redis.GetDatabase(),
            [QueueKeys.Stream(eventId), QueueKeys.Sequence(eventId), QueueKeys.Opened(eventId), QueueKeys.PreQueue(eventId),
                QueueKeys.PreQueueArrivals(eventId), QueueKeys.Late(eventId), QueueKeys.PreQueueOrder(eventId)],
            [QueueKeys.Prefix(eventId), (string)QueueKeys.AnswersChannel(eventId)!, count]);
}
