using System.Globalization;
using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Domain.Bookings;

/// <summary>Entries taken from an event's stream: the requests, and the entries that are no request at all.</summary>
public sealed record QueueBatch(List<(RedisValue EntryId, QueuedRequest Request)> Requests, List<RedisValue> Malformed)
{
    public int Count => Requests.Count + Malformed.Count;
}

/// <summary>The events a worker drains, and whether some are held or could not be looked up (look again soon).</summary>
public sealed record WatchedEvents(IReadOnlyList<long> Events, bool Held, bool Unreadable);

/// <summary>
/// The worker's side of the high-demand queue: one worker at a time drains an event (a lease), through a consumer
/// group, so each event's requests are answered in the order they were accepted; answers are published and the
/// entries acknowledged only after the database committed them.
/// </summary>
public sealed class QueueReader(IConnectionMultiplexer redis)
{
    public const string ConsumerGroup = "drainers";
    private static readonly TimeSpan AnsweredLifetime = TimeSpan.FromDays(1);
    private static readonly TimeSpan RetiredLifetime = TimeSpan.FromHours(1);

    // Each watch bucket's events as last read: on a cluster, a bucket whose node is down still names its events, and
    // those whose queues live on other nodes go on draining.
    private readonly IReadOnlyList<long>?[] _lastRead = new IReadOnlyList<long>?[QueueKeys.WatchBuckets];

    /// <summary>
    /// The events with requests to drain, from every watch bucket at once (one round trip per node), less those of a
    /// bucket held (<see cref="BookingQueue.PauseAsync"/>); a bucket that cannot be read counts with its events as last
    /// read. Throws only when no bucket can be read: Redis as a whole cannot serve.
    /// </summary>
    public async Task<WatchedEvents> ActiveEventsAsync()
    {
        var db = redis.GetDatabase();
        var reads = Enumerable.Range(0, QueueKeys.WatchBuckets)
            .Select(b => (Held: db.KeyExistsAsync(QueueKeys.Paused(b)), Members: db.SetMembersAsync(QueueKeys.ActiveEvents(b)))).ToArray();
        var events = new List<long>();
        var held = false;
        var unreadable = new List<Exception>();
        for (var bucket = 0; bucket < reads.Length; bucket++)
        {
            try
            {
                var members = await reads[bucket].Members;
                if (await reads[bucket].Held)
                {
                    held = true;
                    continue;
                }
                _lastRead[bucket] = members.Select(v => (long)v).ToList();
            }
            catch (Exception ex) when (RedisConnection.IsOutage(ex))
            {
                unreadable.Add(ex);
            }
            events.AddRange(_lastRead[bucket] ?? []);
        }
        if (unreadable.Count == reads.Length)
        {
            throw unreadable[0];
        }
        return new WatchedEvents(events, held, unreadable.Count > 0);
    }

    /// <summary>Takes (or renews) the right to drain an event's stream: one worker per event keeps its order.</summary>
    public async Task<bool> TryLeaseAsync(long eventId, string worker, TimeSpan lifetime) =>
        (long)(await LeaseScript.EvaluateAsync(redis.GetDatabase(), [QueueKeys.Lease(eventId)], [worker, (long)lifetime.TotalMilliseconds])) == 1;

    // Take the lease if free, or renew it if it is this worker's: one step, so it is never renewed for another.
    private static readonly RedisScript LeaseScript = new("""
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        return 0
        """);

    // One round trip per batch: the group made if this stream has none yet (a first request, or Redis lost its data), then
    // what another worker left pending, else new entries. Each entry as {id, {field, value, ...}}. An error other than the
    // group's existing (OOM, say) is the caller's, as the command's own would be.
    private static readonly RedisScript ReadScript = new("""
        local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
        if type(created) == 'table' and created.err and string.sub(created.err, 1, 9) ~= 'BUSYGROUP' then
            return redis.error_reply(created.err)
        end
        local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, '0-0', 'COUNT', ARGV[3])[2]
        if #claimed > 0 then return claimed end
        local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
        if not read then return {} end
        return read[1][2]
        """);

    /// <summary>
    /// The event's oldest unanswered requests, for the lease holder: first every entry another worker took and never
    /// answered (a holder that died or lost its lease; claimed at once, whatever their age, as the lease says they
    /// are this worker's now and the database recognises any it answered after all), then new ones.
    /// </summary>
    public async Task<QueueBatch> ReadAsync(long eventId, string worker, int count)
    {
        var read = (RedisResult[])(await ReadScript.EvaluateAsync(redis.GetDatabase(), [QueueKeys.Stream(eventId)], [ConsumerGroup, worker, count]))!;
        var entries = read.Select(item => (RedisResult[])item!).Where(entry => !entry[1].IsNull).Select(entry =>
        {
            var fields = (RedisResult[])entry[1]!;
            return new StreamEntry((RedisValue)entry[0], [.. Enumerable.Range(0, fields.Length / 2)
                .Select(i => new NameValueEntry((RedisValue)fields[2 * i], (RedisValue)fields[2 * i + 1]))]);
        });
        var batch = new QueueBatch([], []);
        foreach (var entry in entries)
        {
            if (TryParse(eventId, entry) is { } request)
            {
                batch.Requests.Add((entry.Id, request));
            }
            else
            {
                batch.Malformed.Add(entry.Id);
            }
        }
        batch.Requests.Sort((a, b) => a.Request.Sequence.CompareTo(b.Request.Sequence));
        return batch;
    }

    // An entry is the intake script's, or nothing the worker can answer (written by hand, or by an older version).
    private static QueuedRequest? TryParse(long eventId, StreamEntry entry)
    {
        string Field(string name) => entry[name].ToString();
        static long? Number(string text) => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
        if (Number(Field("id")) is not { } id || QueueKeys.EventOf(id) != eventId || Number(Field("user")) is not { } user
            || Number(Field("qty")) is not (>= 1 and <= BookingRules.MaxTicketsPerBooking) || Number(Field("seq")) is not { } seq
            || Number(Field("at")) is not { } at || at > DateTime.MaxValue.Ticks)
        {
            return null;
        }
        List<long>? seats = null;
        if (Field("seats") is { Length: > 0 } list)
        {
            seats = list.Split(',').Select(Number).OfType<long>().ToList();
            if (seats.Count != list.Split(',').Length)
            {
                return null;
            }
        }
        return new QueuedRequest(id, eventId, user, (int)Number(Field("qty"))!, seats, seq, new DateTime(at, DateTimeKind.Utc),
            Field("tp") is { Length: > 0 } tp ? tp : null, Field("key") is { Length: > 0 } key ? key : null);
    }

    private const int ValuesPerEntry = 7;

    // KEYS: stream, answered, drain rate. ARGV: highest seq answered, answer lifetime (s), the event's key prefix, the
    // answers channel, the consumer group, then seven values per entry: entry id, request id, user, quantity, status, booking id or reason,
    // key (empty: none). An entry whose request id is empty is dropped unanswered (malformed). A request still 'queued'
    // gives its user's tickets back once; a second run for the same answers changes nothing. The drain rate is a moving
    // average of answers per second between acknowledgements, a pause of more than 5 s starting it over. The answers
    // are announced on the channel (QueueAnnouncement). Returns the stream's length after.
    private static readonly RedisScript AcknowledgeScript = new("""
        local prefix = ARGV[3]
        local i = 6
        local count = 0
        local announced = {}
        while i <= #ARGV do
          local entry, id, user, qty, status, value, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
          i = i + 7
          if id ~= '' then
            count = count + 1
            announced[count] = id .. ' ' .. status .. ' ' .. value
            local request = prefix .. 'request:' .. id
            if redis.call('HGET', request, 'status') == 'queued' then
              local tickets = prefix .. 'user:' .. user
              if redis.call('DECRBY', tickets, qty) <= 0 then redis.call('DEL', tickets) end
            end
            redis.call('HSET', request, 'user', user, 'qty', qty, 'status', status, status == 'confirmed' and 'booking' or 'reason', value)
            redis.call('EXPIRE', request, ARGV[2])
            if key ~= '' then redis.call('EXPIRE', prefix .. 'idem:' .. user .. ':' .. key, ARGV[2]) end
          end
          redis.call('XACK', KEYS[1], ARGV[5], entry)
          redis.call('XDEL', KEYS[1], entry)
        end
        local answered = tonumber(redis.call('GET', KEYS[2]) or '0')
        if tonumber(ARGV[1]) > answered then redis.call('SET', KEYS[2], ARGV[1]) end
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local last = tonumber(redis.call('HGET', KEYS[3], 'at') or '')
        if last and now > last and now - last < 5000 and count > 0 then
          local measured = count * 1000 / (now - last)
          local rate = tonumber(redis.call('HGET', KEYS[3], 'rate') or '')
          rate = rate and (0.7 * rate + 0.3 * measured) or measured
          redis.call('HSET', KEYS[3], 'rate', string.format('%.3f', rate))
        end
        redis.call('HSET', KEYS[3], 'at', now)
        redis.call('EXPIRE', KEYS[3], 3600)
        if count > 0 then redis.call('PUBLISH', ARGV[4], 'answers ' .. ARGV[1] .. '\n' .. table.concat(announced, '\n')) end
        return redis.call('XLEN', KEYS[1])
        """);

    /// <summary>
    /// Publishes the answers the database committed (each request's state, the users' queued tickets, the position
    /// counter), then acknowledges and removes the entries, the malformed ones too. Safe to run again.
    /// </summary>
    /// <returns>How many requests of the event still wait in its stream (answered ones are removed from it).</returns>
    public async Task<long> AcknowledgeAsync(long eventId, IReadOnlyList<(RedisValue EntryId, QueuedAnswer Answer)> answered, IReadOnlyList<RedisValue> malformed)
    {
        if (answered.Count + malformed.Count == 0)
        {
            return await redis.GetDatabase().StreamLengthAsync(QueueKeys.Stream(eventId));
        }
        // Sized once: a batch's thousands of values would otherwise also fill every smaller array a list grows through,
        // each on the large-object heap.
        ReadOnlySpan<RedisValue> head = [answered.Count == 0 ? 0 : answered.Max(a => a.Answer.Request.Sequence), (long)AnsweredLifetime.TotalSeconds,
            QueueKeys.Prefix(eventId), (string)QueueKeys.AnswersChannel(eventId)!, ConsumerGroup];
        var args = new RedisValue[head.Length + ValuesPerEntry * (answered.Count + malformed.Count)];
        head.CopyTo(args);
        var at = head.Length;
        foreach (var (entryId, answer) in answered)
        {
            var request = answer.Request;
            var confirmed = answer.Status == BookingRequestStatus.Confirmed;
            ReadOnlySpan<RedisValue> entry = [entryId, request.RequestId, request.UserId, request.Quantity, confirmed ? "confirmed" : "rejected",
                confirmed ? answer.BookingId!.Value : answer.Reason, request.IdempotencyKey ?? ""];
            entry.CopyTo(args.AsSpan(at));
            at += ValuesPerEntry;
        }
        foreach (var entryId in malformed)
        {
            args[at] = entryId;
            args.AsSpan(at + 1, ValuesPerEntry - 1).Fill("");
            at += ValuesPerEntry;
        }
        return (long)await AcknowledgeScript.EvaluateAsync(redis.GetDatabase(),
            [QueueKeys.Stream(eventId), QueueKeys.Answered(eventId), QueueKeys.DrainRate(eventId)], args);
    }

    // KEYS: stream, pre-queue arrivals, late, then the keys that expire: stream, seq, answered, ids, opens, opened. Sets an
    // expiry on an empty stream and its counters (the intake removes it), unless requests wait for the opening.
    private static readonly RedisScript RetireScript = new("""
        if redis.call('XLEN', KEYS[1]) > 0 or redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
        for i = 4, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[1]) end
        return 1
        """);

    /// <summary>
    /// Lets go of an event whose stream is empty: its keys expire unless requests come again, and the workers stop
    /// looking at it. The watch bucket lives in another slot than the stream (on a cluster, perhaps on another node), so
    /// the bucket is changed first and the stream checked again after: an intake in between (which adds the event back
    /// after its script, when it was the first of a burst) is never lost.
    /// </summary>
    public async Task RetireIfEmptyAsync(long eventId)
    {
        var db = redis.GetDatabase();
        if ((long)await RetireScript.EvaluateAsync(db,
                [QueueKeys.Stream(eventId), QueueKeys.PreQueueArrivals(eventId), QueueKeys.Late(eventId), QueueKeys.Stream(eventId),
                    QueueKeys.Sequence(eventId), QueueKeys.Answered(eventId), QueueKeys.RequestIds(eventId), QueueKeys.Opens(eventId),
                    QueueKeys.Opened(eventId)],
                [(long)RetiredLifetime.TotalSeconds]) == 0)
        {
            return;
        }
        await db.SetRemoveAsync(QueueKeys.ActiveEventsOf(eventId), eventId);
        if (await db.StreamLengthAsync(QueueKeys.Stream(eventId)) > 0
            || await db.KeyExistsAsync([QueueKeys.PreQueueArrivals(eventId), QueueKeys.Late(eventId)]) > 0)
        {
            await db.SetAddAsync(QueueKeys.ActiveEventsOf(eventId), eventId);
        }
    }
}
