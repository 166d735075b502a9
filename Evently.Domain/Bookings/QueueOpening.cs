using System.Security.Cryptography;
using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Domain.Bookings;

/// <summary>
/// The opening of a high-demand sale, done by the worker that holds the event's lease: once Redis's clock passes the
/// opening time, the pre-queue is put in a cryptographically random order and placed in the stream, then the late
/// arrivals behind it in the order they came, by one script that runs once (the <c>opened</c> flag): a second worker,
/// or a repeat after a worker died with its order computed, changes nothing, and nothing half-placed can exist.
/// </summary>
public sealed class QueueOpening(IConnectionMultiplexer redis)
{
    // KEYS: opens, opened, pre-queue arrivals, late. Returns {1} when the stream may be drained (no pre-queue waits),
    // {0, ms until the opening}, or {2, arrivals...} when the opening has come and the pre-queue is to be shuffled.
    private static readonly RedisScript DueScript = new("""
        if redis.call('EXISTS', KEYS[2]) == 1 or (redis.call('EXISTS', KEYS[3]) == 0 and redis.call('EXISTS', KEYS[4]) == 0) then
          return {1}
        end
        local opens = tonumber(redis.call('GET', KEYS[1]) or '')
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        if opens and now < opens then return {0, opens - now} end
        local due = redis.call('LRANGE', KEYS[3], 0, -1)
        table.insert(due, 1, 2)
        return due
        """);

    // KEYS: stream, seq, opened, pre-queue, pre-queue arrivals, late, drain rate. ARGV: the event's key prefix, the
    // channel, then the pre-queue's ids in the shuffled order. Places each id that is still a pre-queued request of its
    // user, then any arrival the caller did not list and the late ones, in arrival order; each gets its seq. Returns how
    // many were placed, or -1 when the opening was done before. The places are announced on the channel (QueueAnnouncement).
    private static readonly RedisScript ShuffleScript = new("""
        if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
        local placed = 0
        local announced = {}
        local function place(id)
          local request = ARGV[1] .. 'request:' .. id
          local f = redis.call('HMGET', request, 'user', 'qty', 'seats', 'at', 'tp', 'key', 'status', 'seq')
          if not f[1] or f[7] ~= 'queued' or f[8] then return end
          local seq = redis.call('INCR', KEYS[2])
          redis.call('XADD', KEYS[1], '*', 'id', id, 'user', f[1], 'qty', f[2], 'seats', f[3], 'seq', seq, 'at', f[4], 'tp', f[5], 'key', f[6])
          redis.call('HSET', request, 'seq', seq)
          redis.call('HDEL', request, 'seats', 'at', 'tp', 'key')
          placed = placed + 1
          announced[placed] = id .. ' ' .. seq
        end
        for i = 3, #ARGV do
          local user = redis.call('HGET', ARGV[1] .. 'request:' .. ARGV[i], 'user')
          if user and redis.call('HGET', KEYS[4], user) == ARGV[i] then place(ARGV[i]) end
        end
        for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do place(id) end
        for _, id in ipairs(redis.call('LRANGE', KEYS[6], 0, -1)) do place(id) end
        redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
        redis.call('SET', KEYS[3], 1)
        redis.call('PERSIST', KEYS[1])
        redis.call('PERSIST', KEYS[2])
        local time = redis.call('TIME')
        redis.call('HSET', KEYS[7], 'at', tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
        redis.call('EXPIRE', KEYS[7], 3600)
        redis.call('PUBLISH', ARGV[2], 'placed\n' .. table.concat(announced, '\n'))
        return placed
        """);

    /// <summary>
    /// For the event's lease holder, before it drains: null when the stream may be drained; otherwise how long until
    /// the sale opens (nothing is drained before). At the opening this shuffles the pre-queue into the stream first.
    /// </summary>
    public async Task<TimeSpan?> OpenIfDueAsync(long eventId)
    {
        var db = redis.GetDatabase();
        var due = (RedisResult[])(await DueScript.EvaluateAsync(db,
            [QueueKeys.Opens(eventId), QueueKeys.Opened(eventId), QueueKeys.PreQueueArrivals(eventId), QueueKeys.Late(eventId)], []))!;
        switch ((int)due[0])
        {
            case 1:
                return null;
            case 0:
                return TimeSpan.FromMilliseconds((long)due[1]);
        }
        // The order is drawn before the script runs and nothing is written until it does: a worker killed in between
        // leaves the pre-queue as it was, for the next lease holder to draw its own order.
        var order = due.Skip(1).Select(id => (RedisValue)(string)id!).ToArray();
        RandomNumberGenerator.Shuffle(order.AsSpan());
        await ShuffleAsync(eventId, order);
        return null;
    }

    /// <returns>How many requests were placed, or -1 when the event had opened before.</returns>
    public async Task<long> ShuffleAsync(long eventId, RedisValue[] order) =>
        (long)await ShuffleScript.EvaluateAsync(redis.GetDatabase(),
            [QueueKeys.Stream(eventId), QueueKeys.Sequence(eventId), QueueKeys.Opened(eventId), QueueKeys.PreQueue(eventId),
                QueueKeys.PreQueueArrivals(eventId), QueueKeys.Late(eventId), QueueKeys.DrainRate(eventId)],
            [QueueKeys.Prefix(eventId), (string)QueueKeys.AnswersChannel(eventId)!, .. order]);
}
