using System.Diagnostics;
using System.Diagnostics.Metrics;
using Evently.Domain.Bookings;
using Evently.Domain.Infrastructure;
using Evently.Worker.Infrastructure;
using Microsoft.Extensions.Options;

namespace Evently.Worker.Bookings;

public sealed class QueueOptions
{
    public const string Section = "Evently:Queue";

    /// <summary>Requests answered per transaction.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>
    /// At a sale's opening, pre-queued requests placed in the stream per pass (each pass then answers a batch): twice
    /// a batch, so the placing stays ahead of the answering, and one placing holds Redis for tens of milliseconds.
    /// </summary>
    public int PlacedPerPass { get; set; } = 2000;

    /// <summary>How long a worker keeps an event's stream without renewing; a dead worker's requests wait that long.</summary>
    public int LeaseSeconds { get; set; } = 10;
}

/// <summary>
/// Drains the high-demand streams: per event, one worker at a time (a Redis lease) reads the oldest requests (first
/// any a previous holder took and never answered), answers them in one transaction (QueuedBookings), then publishes
/// the answers and acknowledges, only after the commit. Each event's pass stands alone: one that fails backs off
/// by itself while the others go on.
/// </summary>
public sealed class QueueDrainer(
    IServiceScopeFactory scopes, WorkSignal signal, QueueReader queue, QueueOpening opening, IOptions<QueueOptions> options, QueueMetrics metrics,
    DrainPriority priority, TimeProvider timeProvider, ILogger<QueueDrainer> logger)
    : WorkerLoop(scopes, signal, logger)
{
    public static readonly ActivitySource ActivitySource = new("Evently.Queue");
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly string _consumer = ConsumerName(Environment.ProcessId);
    private readonly Dictionary<long, (int Failures, DateTime RetryAt)> _backoff = [];
    private readonly Dictionary<long, DateTime> _openingFollowedAt = [];

    /// <summary>The name a worker process holds event leases and reads stream entries under.</summary>
    internal static string ConsumerName(int processId) => $"{Environment.MachineName}-{processId}";

    protected override async Task<TimeSpan> RunPassAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var bookings = services.GetRequiredService<QueuedBookings>();
        var watched = await queue.ActiveEventsAsync();
        var events = watched.Events;
        priority.SawEventsInLine(events);
        var answered = 0;
        var sleep = LongestSleep;
        var waiting = 0;
        // One batch per event per pass: two on-sales at once both move.
        foreach (var eventId in events)
        {
            if (cancellationToken.IsCancellationRequested
                || (_backoff.TryGetValue(eventId, out var backoff) && backoff.RetryAt > timeProvider.GetUtcNow().UtcDateTime))
            {
                continue;
            }
            try
            {
                var (count, opensIn) = await DrainOnceAsync(bookings, eventId, cancellationToken);
                answered += count;
                if (opensIn is { } untilOpening)
                {
                    waiting++;
                    sleep = untilOpening < sleep ? untilOpening : sleep;
                }
                _backoff.Remove(eventId);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var failures = _backoff.GetValueOrDefault(eventId).Failures + 1;
                // A Redis node that cannot serve (on a cluster: this event's) is tried again as soon as Redis is every
                // other caller; any other failure backs off.
                var wait = RedisConnection.IsOutage(ex)
                    ? RedisConnection.SkipAfterOutage
                    : TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, failures - 1)));
                _backoff[eventId] = (failures, timeProvider.GetUtcNow().UtcDateTime + wait);
                logger.LogWarning(ex, "Draining event {EventId} failed ({Failures} in a row); next try in {Wait}", eventId, failures, wait);
            }
        }
        if (answered > 0)
        {
            Signal.Wake();
            return TimeSpan.Zero;
        }
        // While any stream is active (perhaps leased by another worker), look again soon; a sale that opens later, at its
        // time; a held drain or a watch bucket that could not be read, within a tenth of a second.
        if (events.Count > waiting)
        {
            return TimeSpan.FromMilliseconds(20);
        }
        return watched.Held || watched.Unreadable ? TimeSpan.FromMilliseconds(Math.Min(100, sleep.TotalMilliseconds)) : sleep;
    }

    /// <returns>How many entries were answered or dropped; how long until the sale opens when it has not.</returns>
    private async Task<(int Answered, TimeSpan? OpensIn)> DrainOnceAsync(QueuedBookings bookings, long eventId, CancellationToken ct)
    {
        if (!await queue.TryLeaseAsync(eventId, _consumer, TimeSpan.FromSeconds(options.Value.LeaseSeconds)))
        {
            return (0, null);
        }
        // Nothing is drained before the opening; from it, each pass places the shuffled pre-queue's next requests first.
        if (await opening.OpenIfDueAsync(eventId, options.Value.PlacedPerPass) is { } opensIn)
        {
            return (0, await FollowOpeningAsync(bookings, eventId, opensIn, ct));
        }
        _openingFollowedAt.Remove(eventId);
        var batch = await queue.ReadAsync(eventId, _consumer, options.Value.BatchSize);
        if (batch.Count == 0)
        {
            await queue.RetireIfEmptyAsync(eventId);
            return (0, null);
        }
        using var answering = priority.Answering();
        if (batch.Malformed.Count > 0)
        {
            logger.LogError("{Count} entries of event {EventId}'s stream are no booking request; they are dropped", batch.Malformed.Count, eventId);
        }
        await AnswerAsync(bookings, eventId, batch, ct);
        return (batch.Count, null);
    }

    // Redis's opening time may have missed an admin's change (the opening moved, or the event cancelled) that the API
    // could not carry to it: while a pre-queue waits, the database's opening is carried there, once a second at most.
    private async Task<TimeSpan> FollowOpeningAsync(QueuedBookings bookings, long eventId, TimeSpan opensIn, CancellationToken ct)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        if (now - _openingFollowedAt.GetValueOrDefault(eventId) < TimeSpan.FromSeconds(1))
        {
            return opensIn;
        }
        _openingFollowedAt[eventId] = now;
        var opens = await bookings.OpeningAsync(eventId, ct);
        if (!await opening.MoveAsync(eventId, opens))
        {
            return opensIn;
        }
        return opens is { } at && at > now ? at - now : TimeSpan.Zero;
    }

    private async Task AnswerAsync(QueuedBookings bookings, long eventId, QueueBatch batch, CancellationToken ct)
    {
        var requests = batch.Requests;
        // The batch continues the trace of its first request's intake, and links the others.
        var links = requests.Skip(1).Select(b => b.Request.TraceParent).OfType<string>()
            .Select(tp => ActivityContext.TryParse(tp, null, out var context) ? new ActivityLink(context) : default)
            .Where(link => link.Context != default).ToList();
        using var activity = ActivitySource.StartActivity(ActivityKind.Consumer,
            parentContext: requests.FirstOrDefault().Request?.TraceParent is { } parent && ActivityContext.TryParse(parent, null, out var context) ? context : default,
            links: links, name: "drain booking queue");
        activity?.SetTag("evently.event_id", eventId);
        activity?.SetTag("evently.batch_size", batch.Count);

        var result = requests.Count == 0 ? new QueuedAnswers([], []) : await bookings.AnswerAsync(eventId, requests.Select(b => b.Request).ToList(), ct);
        // Every entry of a request is acknowledged with its answer (a duplicate entry too); one nobody can answer,
        // with a rejection that says so, and no row in the database.
        var answers = result.Answers.ToDictionary(a => a.Request.RequestId);
        foreach (var request in result.Unanswerable)
        {
            answers[request.RequestId] = new QueuedAnswer(request, BookingRequestStatus.Rejected, null, QueuedBookings.Unanswerable);
        }
        var depth = await queue.AcknowledgeAsync(eventId, requests.Select(b => (b.EntryId, answers[b.Request.RequestId])).ToList(), batch.Malformed);
        if (requests.Count > 0)
        {
            metrics.Batch(eventId, batch.Count, timeProvider.GetUtcNow().UtcDateTime - requests.Min(b => b.Request.QueuedAt), depth);
        }
    }
}

/// <summary>Drain rate, batch size, how long the oldest request of a batch waited, and each event's queue depth.</summary>
public sealed class QueueMetrics
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, long> _depths = new();
    private readonly Counter<long> _answered;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _oldestAge;

    public QueueMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create("Evently.Queue");
        _answered = meter.CreateCounter<long>("evently.queue.answered", "{request}", "Queued requests answered");
        _batchSize = meter.CreateHistogram<int>("evently.queue.batch_size", "{request}", "Requests answered per transaction");
        _oldestAge = meter.CreateHistogram<double>("evently.queue.oldest_age", "s", "Age of the oldest request of a batch when answered");
        meter.CreateObservableGauge("evently.queue.depth",
            () => _depths.Select(d => new Measurement<long>(d.Value, new KeyValuePair<string, object?>("evently.event_id", d.Key))),
            "{request}", "Requests waiting in an event's stream, as of this worker's last batch");
    }

    public void Batch(long eventId, int size, TimeSpan oldest, long depth)
    {
        if (depth == 0)
        {
            _depths.TryRemove(eventId, out _);
        }
        else
        {
            _depths[eventId] = depth;
        }
        _answered.Add(size);
        _batchSize.Record(size);
        _oldestAge.Record(Math.Max(0, oldest.TotalSeconds));
    }
}
