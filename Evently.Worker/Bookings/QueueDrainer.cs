using System.Diagnostics;
using System.Diagnostics.Metrics;
using Evently.Domain.Bookings;
using Evently.Worker.Infrastructure;
using Microsoft.Extensions.Options;

namespace Evently.Worker.Bookings;

public sealed class QueueOptions
{
    public const string Section = "Evently:Queue";

    /// <summary>Requests answered per transaction.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>How long a worker keeps an event's stream without renewing; a dead worker's requests wait that long.</summary>
    public int LeaseSeconds { get; set; } = 10;
}

/// <summary>
/// Drains the high-demand streams: per event, one worker at a time (a Redis lease) reads the oldest
/// requests, answers them in one transaction (QueuedBookings), then publishes the answers and XACKs,
/// only after the commit. Requests a dead worker had taken are claimed again once its lease ran out.
/// </summary>
public sealed class QueueDrainer(
    IServiceScopeFactory scopes, WorkSignal signal, BookingQueue queue, IOptions<QueueOptions> options, QueueMetrics metrics,
    TimeProvider timeProvider, ILogger<QueueDrainer> logger)
    : WorkerLoop(scopes, signal, logger)
{
    public static readonly ActivitySource ActivitySource = new("Evently.Queue");
    private readonly string _consumer = $"{Environment.MachineName}-{Environment.ProcessId}";

    protected override async Task<TimeSpan> RunPassAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var bookings = services.GetRequiredService<QueuedBookings>();
        var lease = TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        if (await queue.IsPausedAsync())
        {
            return TimeSpan.FromMilliseconds(100);
        }
        var events = await queue.ActiveEventsAsync();
        var answered = 0;
        // One batch per event per pass: two on-sales at once both move.
        foreach (var eventId in events)
        {
            if (cancellationToken.IsCancellationRequested || !await queue.TryLeaseAsync(eventId, _consumer, lease))
            {
                continue;
            }
            var batch = await queue.ReadAsync(eventId, _consumer, options.Value.BatchSize, lease);
            if (batch.Count == 0)
            {
                await queue.RetireIfEmptyAsync(eventId);
                continue;
            }
            await AnswerAsync(bookings, eventId, batch, cancellationToken);
            answered += batch.Count;
        }
        if (answered > 0)
        {
            Signal.Wake();
            return TimeSpan.Zero;
        }
        // While any stream is active (perhaps leased by another worker), look again soon.
        return events.Count > 0 ? TimeSpan.FromMilliseconds(20) : LongestSleep;
    }

    private async Task AnswerAsync(QueuedBookings bookings, long eventId, List<(StackExchange.Redis.RedisValue EntryId, QueuedRequest Request)> batch,
        CancellationToken ct)
    {
        // The batch continues the trace of its first request's intake, and links the others.
        var links = batch.Skip(1).Select(b => b.Request.TraceParent).OfType<string>()
            .Select(tp => ActivityContext.TryParse(tp, null, out var context) ? new ActivityLink(context) : default)
            .Where(link => link.Context != default).ToList();
        using var activity = ActivitySource.StartActivity(ActivityKind.Consumer,
            parentContext: batch[0].Request.TraceParent is { } parent && ActivityContext.TryParse(parent, null, out var context) ? context : default,
            links: links, name: "drain booking queue");
        activity?.SetTag("evently.event_id", eventId);
        activity?.SetTag("evently.batch_size", batch.Count);

        var answers = await bookings.AnswerAsync(eventId, batch.Select(b => b.Request).ToList(), ct);
        var byRequest = answers.ToDictionary(a => a.Request.RequestId);
        await queue.AcknowledgeAsync(eventId, batch.Select(b => (b.EntryId, byRequest[b.Request.RequestId])).ToList());
        metrics.Batch(eventId, batch.Count, timeProvider.GetUtcNow().UtcDateTime - batch.Min(b => b.Request.QueuedAt),
            await queue.DepthAsync(eventId));
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
