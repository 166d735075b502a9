using System.Collections.Concurrent;
using System.Threading.Channels;
using Evently.Domain.Bookings;
using StackExchange.Redis;

namespace Evently.ApiService.Bookings;

/// <summary>
/// This replica's view of the queues its request streams wait in: per event with at least one open stream, one
/// subscription to the worker's announcements (<see cref="QueueAnnouncement"/>) and one read of the event's figures (at
/// most every 200 ms while the worker announces, and once a second anyway, so a lost message costs a second), fanned out
/// in memory. What the streams cost Redis does not grow with their number: a stream's answer, and its place at the
/// opening, come with the announcement to the one stream concerned; the figures (positions and the estimate) reach the
/// streams on the watch's own tick, once a second, at most <see cref="PositionsPerTick"/> of them per tick in turn, so a
/// busy drain wakes each stream at most once a second (not at every batch), and what the positions cost a replica stays
/// bounded however many buyers it holds. A stream whose announcement was lost reads its own request, and those reads
/// are gathered too.
/// </summary>
public sealed class QueueWatch(IConnectionMultiplexer redis, BookingQueue queue, ILogger<QueueWatch> logger)
{
    private const int MaxRequestsPerRead = 500;
    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinSpacing = TimeSpan.FromMilliseconds(200);
    /// <summary>How often every stream is woken even when nothing changed, to see whether a keep-alive is due.</summary>
    public static readonly TimeSpan IdleWake = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Streams of one event given their new position per tick: with more on this replica, each gets it every few seconds
    /// (10,000 streams: every 2 s). Writing a position costs the replica and its client tens of microseconds of CPU, and a
    /// drain moves every position each second: unbounded, what a replica spends on positions grows with its buyers, and
    /// on a shared machine it is taken from the drain (BENCHMARKS.md).
    /// </summary>
    public const int PositionsPerTick = 5_000;

    private readonly IConnectionMultiplexer _redis = redis;
    private readonly BookingQueue _queue = queue;
    private readonly ILogger<QueueWatch> _logger = logger;
    private readonly Dictionary<long, EventWatch> _events = [];
    private readonly Lock _lock = new();

    /// <summary>Follows the request in its event's watch (starting the watch for its first stream); dispose to leave.</summary>
    public Follower Join(long eventId, long requestId)
    {
        lock (_lock)
        {
            if (!_events.TryGetValue(eventId, out var watch))
            {
                watch = _events[eventId] = new EventWatch(this, eventId);
                _ = watch.RunAsync();
            }
            return watch.Add(requestId);
        }
    }

    private void Leave(Follower follower)
    {
        lock (_lock)
        {
            if (follower.Watch.Remove(follower) == 0)
            {
                _events.Remove(follower.Watch.EventId);
                follower.Watch.Stop();
            }
        }
    }

    /// <summary>One stream's hold on its request: what the watch announced for it, and when to look again.</summary>
    public sealed class Follower(EventWatch watch, long requestId) : IDisposable
    {
        private TaskCompletionSource _woken = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal EventWatch Watch { get; } = watch;
        public long RequestId { get; } = requestId;

        /// <summary>The event's figures as last read (null before the first read).</summary>
        public QueueFigures? Figures => Watch.Figures;

        /// <summary>The request's place, once announced at the opening.</summary>
        public long? Placed { get; private set; }

        /// <summary>The request's answer, once announced.</summary>
        public AnnouncedAnswer? Answer { get; private set; }

        /// <summary>Completes at the next tick with new figures, at this request's announcement, or after IdleWake. Take it before looking.</summary>
        public Task Woken => Volatile.Read(ref _woken).Task;

        /// <summary>How many ticks the watch has made: a stream writes at most one position per tick, and ticks are a second apart.</summary>
        public long Ticks => Watch.Ticks;

        /// <summary>Asks to be woken at the next tick (a position held back by the once-a-second rule).</summary>
        public void WakeAtNextTick() => Watch.WakeAtNextTick(this);

        internal bool Left { get; set; }

        /// <summary>The request's state as Redis knows it (null: it does not), read together with the other streams' of the event.</summary>
        public Task<QueuedRequestState?> ReadRequestAsync(CancellationToken cancellationToken) => Watch.ReadRequestAsync(RequestId, cancellationToken);

        // Its first position comes at the watch's next tick, within the positions a tick may give.
        internal void Place(long sequence)
        {
            Placed = sequence;
            Watch.WakeAtNextTick(this);
        }

        internal void Answered(AnnouncedAnswer answer)
        {
            Answer = answer;
            Wake();
        }

        internal void Wake() =>
            Interlocked.Exchange(ref _woken, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        public void Dispose() => Watch.Owner.Leave(this);
    }

    public sealed class EventWatch(QueueWatch owner, long eventId)
    {
        private readonly CancellationTokenSource _stop = new();
        // By request id: a client may hold two streams of one request for a moment (a reconnect).
        private readonly Dictionary<long, List<Follower>> _followers = [];
        // The streams in the order they get the figures, and how many still owe a look at the last change.
        private readonly Queue<Follower> _rotation = new();
        private readonly ConcurrentQueue<Follower> _askedForTick = new();
        private int _owed;
        private readonly Lock _lock = new();
        private volatile TaskCompletionSource _announced = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Channel<(long RequestId, TaskCompletionSource<QueuedRequestState?> Read)> _reads =
            Channel.CreateUnbounded<(long, TaskCompletionSource<QueuedRequestState?>)>(new UnboundedChannelOptions { SingleReader = true });
        private int _count;

        internal QueueWatch Owner { get; } = owner;
        public long EventId { get; } = eventId;
        internal QueueFigures? Figures { get; private set; }
        internal long Ticks => Interlocked.Read(ref _ticks);
        private long _ticks;

        internal Follower Add(long requestId)
        {
            var follower = new Follower(this, requestId);
            lock (_lock)
            {
                if (!_followers.TryGetValue(requestId, out var list))
                {
                    _followers[requestId] = list = [];
                }
                list.Add(follower);
                _rotation.Enqueue(follower);
                _count++;
            }
            return follower;
        }

        /// <returns>How many streams still follow the event.</returns>
        internal int Remove(Follower follower)
        {
            lock (_lock)
            {
                if (_followers.TryGetValue(follower.RequestId, out var list) && list.Remove(follower))
                {
                    follower.Left = true;
                    _count--;
                    if (list.Count == 0)
                    {
                        _followers.Remove(follower.RequestId);
                    }
                }
                return _count;
            }
        }

        internal void Stop()
        {
            _stop.Cancel();
            _reads.Writer.TryComplete();
        }

        internal async Task<QueuedRequestState?> ReadRequestAsync(long requestId, CancellationToken cancellationToken)
        {
            var read = new TaskCompletionSource<QueuedRequestState?>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_reads.Writer.TryWrite((requestId, read)))
            {
                throw new OperationCanceledException("The watch has stopped.");
            }
            return await read.Task.WaitAsync(cancellationToken);
        }

        // While one read is out, the streams that ask meanwhile wait for the next: the reads batch themselves.
        private async Task ReadRequestsAsync()
        {
            var batch = new List<(long RequestId, TaskCompletionSource<QueuedRequestState?> Read)>(MaxRequestsPerRead);
            while (await _reads.Reader.WaitToReadAsync())
            {
                while (batch.Count < MaxRequestsPerRead && _reads.Reader.TryRead(out var read))
                {
                    batch.Add(read);
                }
                try
                {
                    var figures = Figures ?? await QueueFigures.ReadAsync(Owner._redis.GetDatabase(), EventId);
                    var states = await Owner._queue.GetManyAsync(EventId, batch.ConvertAll(r => r.RequestId), figures);
                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Read.TrySetResult(states[i]);
                    }
                }
                catch (Exception ex)
                {
                    // Each stream decides: an outage ends it, and its client resumes with Last-Event-ID.
                    batch.ForEach(r => r.Read.TrySetException(ex));
                }
                batch.Clear();
            }
        }

        // On StackExchange.Redis's thread: hands each place and answer to its streams, and has the figures read again.
        private void Deliver(RedisValue message)
        {
            var announcement = QueueAnnouncement.Parse(message);
            lock (_lock)
            {
                foreach (var (requestId, sequence) in announcement.Placed)
                {
                    if (_followers.TryGetValue(requestId, out var list))
                    {
                        list.ForEach(f => f.Place(sequence));
                    }
                }
                foreach (var answer in announcement.Answers)
                {
                    if (_followers.TryGetValue(answer.RequestId, out var list))
                    {
                        list.ForEach(f => f.Answered(answer));
                    }
                }
            }
            _announced.TrySetResult();
        }

        private void WakeAll()
        {
            List<Follower> everyone;
            lock (_lock)
            {
                everyone = _followers.Values.SelectMany(l => l).ToList();
            }
            everyone.ForEach(f => f.Wake());
        }

        // Without the lock: at the opening thousands of streams ask at once.
        internal void WakeAtNextTick(Follower follower) => _askedForTick.Enqueue(follower);

        // Wakes, at most PositionsPerTick in all, the streams that asked for a tick (the rest at the next) and, while some
        // have not looked since the figures last changed, the next of them in turn; once all have, every stream when asked
        // to (each IdleWake: keep-alives), which writes no position. Returns whether it woke every stream.
        private bool Tick(bool changed, bool everyone)
        {
            List<Follower> woken;
            lock (_lock)
            {
                if (changed)
                {
                    _owed = _count;
                }
                woken = [];
                while (woken.Count < PositionsPerTick && _askedForTick.TryDequeue(out var asked))
                {
                    woken.Add(asked);
                }
                while (woken.Count < PositionsPerTick && _owed > 0 && _rotation.TryDequeue(out var follower))
                {
                    if (!follower.Left)
                    {
                        woken.Add(follower);
                        _rotation.Enqueue(follower);
                        _owed--;
                    }
                }
                everyone = everyone && _owed == 0;
                if (everyone)
                {
                    woken = _followers.Values.SelectMany(l => l).ToList();
                }
            }
            if (woken.Count > 0)
            {
                Interlocked.Increment(ref _ticks);
                woken.ForEach(f => f.Wake());
            }
            return everyone;
        }

        internal async Task RunAsync()
        {
            var channel = QueueKeys.AnswersChannel(EventId);
            var subscriber = Owner._redis.GetSubscriber();
            Action<RedisChannel, RedisValue> announce = (_, message) => Deliver(message);
            var reads = ReadRequestsAsync();
            try
            {
                try
                {
                    await subscriber.SubscribeAsync(channel, announce);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // The once-a-second read still moves the streams, and each reads its own answer when its turn has come.
                    Owner._logger.LogWarning(ex, "Subscribing to the answers of event {EventId} failed; reading its figures every second", EventId);
                }
                var changed = false;
                var nextTick = DateTime.UtcNow;
                var lastWake = DateTime.UtcNow;
                while (!_stop.IsCancellationRequested)
                {
                    var announced = _announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    try
                    {
                        var figures = await QueueFigures.ReadAsync(Owner._redis.GetDatabase(), EventId);
                        if (figures != Figures)
                        {
                            // The first figures go out at once: new streams wait for them.
                            changed = Figures is not null;
                            Figures = figures;
                            if (!changed)
                            {
                                WakeAll();
                            }
                        }
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        Owner._logger.LogWarning(ex, "Reading the queue figures of event {EventId} failed; trying again", EventId);
                    }
                    var now = DateTime.UtcNow;
                    if (now >= nextTick)
                    {
                        if (Tick(changed, now - lastWake >= IdleWake))
                        {
                            lastWake = now;
                        }
                        changed = false;
                        nextTick = now + TickInterval;
                    }
                    await Task.WhenAny(announced.Task, Task.Delay(nextTick - now, _stop.Token));
                    await Task.Delay(MinSpacing, _stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Owner._logger.LogError(ex, "The queue watch of event {EventId} stopped", EventId);
            }
            finally
            {
                _reads.Writer.TryComplete();
                await reads;
                try
                {
                    // This watch's handler only: a new watch of the event may have subscribed meanwhile.
                    await subscriber.UnsubscribeAsync(channel, announce);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // The subscription ends with the connection anyway.
                }
            }
        }
    }
}
