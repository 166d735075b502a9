using System.Threading.Channels;
using Evently.Domain.Bookings;
using StackExchange.Redis;

namespace Evently.ApiService.Bookings;

/// <summary>
/// This replica's view of the queues its request streams wait in: per event with at least one open stream, one
/// subscription to the worker's answers channel and one read of the event's figures (at most every 200 ms when the
/// worker announces answers, and once a second anyway, so a lost message costs a second), fanned out in memory to
/// every stream of that event. What the streams cost Redis does not grow with their number. A stream reads its own
/// request only when its turn has come or the pre-queue was placed, and those reads are gathered too: at the opening
/// every stream of the event asks at once, and gets its answer from a few calls, not one each.
/// </summary>
public sealed class QueueWatch(IConnectionMultiplexer redis, BookingQueue queue, ILogger<QueueWatch> logger)
{
    private const int MaxRequestsPerRead = 500;
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinSpacing = TimeSpan.FromMilliseconds(200);
    private readonly IConnectionMultiplexer _redis = redis;
    private readonly BookingQueue _queue = queue;
    private readonly ILogger<QueueWatch> _logger = logger;
    private readonly Dictionary<long, EventWatch> _events = [];
    private readonly Lock _lock = new();

    /// <summary>Joins the event's watch (starting it for the first stream); dispose to leave it.</summary>
    public EventWatch Join(long eventId)
    {
        lock (_lock)
        {
            if (!_events.TryGetValue(eventId, out var watch))
            {
                watch = _events[eventId] = new EventWatch(this, eventId);
                _ = watch.RunAsync();
            }
            watch.Streams++;
            return watch;
        }
    }

    private void Leave(EventWatch watch)
    {
        lock (_lock)
        {
            if (--watch.Streams == 0)
            {
                _events.Remove(watch.EventId);
                watch.Stop();
            }
        }
    }

    public sealed class EventWatch(QueueWatch owner, long eventId) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile TaskCompletionSource _announced = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Channel<(long RequestId, TaskCompletionSource<QueuedRequestState?> Read)> _reads =
            Channel.CreateUnbounded<(long, TaskCompletionSource<QueuedRequestState?>)>(new UnboundedChannelOptions { SingleReader = true });

        public long EventId { get; } = eventId;
        internal int Streams { get; set; }

        /// <summary>The event's figures as last read (null before the first read).</summary>
        public QueueFigures? Figures { get; private set; }

        /// <summary>Completes when <see cref="Figures"/> next changes.</summary>
        public Task Changed => Volatile.Read(ref _changed).Task;

        public void Dispose() => owner.Leave(this);

        internal void Stop()
        {
            _stop.Cancel();
            _reads.Writer.TryComplete();
        }

        /// <summary>The request's state as Redis knows it (null: it does not), read together with the other streams' of the event.</summary>
        public async Task<QueuedRequestState?> ReadRequestAsync(long requestId, CancellationToken cancellationToken)
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
                    var figures = Figures ?? await QueueFigures.ReadAsync(owner._redis.GetDatabase(), EventId);
                    var states = await owner._queue.GetManyAsync(EventId, batch.ConvertAll(r => r.RequestId), figures);
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

        internal async Task RunAsync()
        {
            var channel = QueueKeys.AnswersChannel(EventId);
            var subscriber = owner._redis.GetSubscriber();
            Action<RedisChannel, RedisValue> announce = (_, _) => _announced.TrySetResult();
            var reads = ReadRequestsAsync();
            try
            {
                try
                {
                    await subscriber.SubscribeAsync(channel, announce);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // The once-a-second read still moves the streams.
                    owner._logger.LogWarning(ex, "Subscribing to the answers of event {EventId} failed; reading its figures every second", EventId);
                }
                while (!_stop.IsCancellationRequested)
                {
                    var announced = _announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    try
                    {
                        var figures = await QueueFigures.ReadAsync(owner._redis.GetDatabase(), EventId);
                        if (figures != Figures)
                        {
                            Figures = figures;
                            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                        }
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        owner._logger.LogWarning(ex, "Reading the queue figures of event {EventId} failed; trying again", EventId);
                    }
                    await Task.WhenAny(announced.Task, Task.Delay(Poll, _stop.Token));
                    await Task.Delay(MinSpacing, _stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                owner._logger.LogError(ex, "The queue watch of event {EventId} stopped", EventId);
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
