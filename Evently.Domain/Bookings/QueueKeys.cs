using StackExchange.Redis;

namespace Evently.Domain.Bookings;

/// <summary>
/// Where the high-demand queue keeps its state in Redis. Every key of one event's queue carries the event's hash
/// tag, <c>{e&lt;id&gt;}</c>, so that one script may touch all of them on a Redis Cluster (they share a slot); a
/// request's id says its event (<see cref="EventOf"/>), so its key is found without a global index.
/// </summary>
/// <remarks>
/// Expiry: queue state in flight (the stream, its counters, a user's queued tickets, a queued request's hash and
/// its Idempotency-Key) never expires; everything else does: an answered request's hash and key, and a drained
/// event's stream and counters (retired, <see cref="QueueReader.RetireIfEmptyAsync"/>). So a memory policy that
/// evicts only keys with an expiry (volatile-*) can never evict a promise.
/// </remarks>
public static class QueueKeys
{
    /// <summary>Request ids of one event are its id times 2^28 plus a counter: 268 million per event, under 2^53 below event 2^25.</summary>
    public const int RequestIdBits = 28;

    /// <summary>
    /// The index of events with requests to drain is split into this many buckets, each a small set under a hash tag of
    /// its own (<c>{q&lt;n&gt;}</c>): spread over a cluster's nodes, so that no node holds every intake's write, and one
    /// node down hides only the buckets it serves. An event's bucket and its queue's keys are in different slots: they
    /// are never written by one script (see <see cref="BookingQueue.EnqueueAsync"/> and <see cref="QueueReader.RetireIfEmptyAsync"/>).
    /// </summary>
    public const int WatchBuckets = 16;

    public static int BucketOf(long eventId) => (int)(eventId % WatchBuckets);

    /// <summary>One bucket of events with requests to drain.</summary>
    public static RedisKey ActiveEvents(int bucket) => $"evently:{{q{bucket}}}:events";

    /// <summary>The bucket that watches the event.</summary>
    public static RedisKey ActiveEventsOf(long eventId) => ActiveEvents(BucketOf(eventId));

    /// <summary>Present while an operator (or the benchmark) holds the drain of the bucket's events.</summary>
    public static RedisKey Paused(int bucket) => $"evently:{{q{bucket}}}:paused";

    public static string Tag(long eventId) => $"{{e{eventId}}}";

    /// <summary>The prefix of every key of the event's queue.</summary>
    public static string Prefix(long eventId) => $"evently:{Tag(eventId)}:";

    public static RedisKey Stream(long eventId) => Prefix(eventId) + "stream";

    /// <summary>The last position handed out (a request's <c>seq</c>).</summary>
    public static RedisKey Sequence(long eventId) => Prefix(eventId) + "seq";

    /// <summary>The highest position answered: a queued request's place is its seq minus this.</summary>
    public static RedisKey Answered(long eventId) => Prefix(eventId) + "answered";

    /// <summary>The counter of the event's request ids.</summary>
    public static RedisKey RequestIds(long eventId) => Prefix(eventId) + "ids";

    /// <summary>When the sale opens, in milliseconds since the epoch (written by the intake from the event's facts).</summary>
    public static RedisKey Opens(long eventId) => Prefix(eventId) + "opens";

    /// <summary>Set once the pre-queue (and the late arrivals behind it) is placed in the stream: from then on the intake appends to the stream.</summary>
    public static RedisKey Opened(long eventId) => Prefix(eventId) + "opened";

    /// <summary>The pre-queue: user to request id, one request per account before the opening.</summary>
    public static RedisKey PreQueue(long eventId) => Prefix(eventId) + "prequeue";

    /// <summary>The pre-queue's request ids in arrival order (what the worker shuffles).</summary>
    public static RedisKey PreQueueArrivals(long eventId) => Prefix(eventId) + "prequeue:arrivals";

    /// <summary>The pre-queue's ids in the order the worker drew at the opening, those not yet placed in the stream.</summary>
    public static RedisKey PreQueueOrder(long eventId) => Prefix(eventId) + "prequeue:order";

    /// <summary>Requests that came after the opening time but before the pre-queue was all placed: they follow it.</summary>
    public static RedisKey Late(long eventId) => Prefix(eventId) + "late";

    /// <summary>The measured drain rate (answers per second, a moving average) and when it was last measured.</summary>
    public static RedisKey DrainRate(long eventId) => Prefix(eventId) + "rate";

    /// <summary>Where the worker announces answers and the opening, for the API's request streams.</summary>
    public static RedisChannel AnswersChannel(long eventId) => RedisChannel.Literal(Prefix(eventId) + "answers");

    public static RedisKey Lease(long eventId) => Prefix(eventId) + "lease";

    public static RedisKey UserTickets(long eventId, long userId) => Prefix(eventId) + $"user:{userId}";

    public static RedisKey IdempotencyKey(long eventId, long userId, string key) => Prefix(eventId) + $"idem:{userId}:{key}";

    public static RedisKey Request(long requestId) => Prefix(EventOf(requestId)) + $"request:{requestId}";

    public static long EventOf(long requestId) => requestId >> RequestIdBits;

    public static long FirstRequestId(long eventId) => eventId << RequestIdBits;
}
