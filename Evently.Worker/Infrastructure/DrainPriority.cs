namespace Evently.Worker.Infrastructure;

/// <summary>
/// The on-sale drain comes first among this worker's duties: while it is answering, buyers wait on their answers
/// (their streams, their polls), and the mails of those answers can follow a few seconds later. The mail loop holds
/// back while the drain is answering a batch or answered one within the last <see cref="Quiet"/>, but never for more
/// than <see cref="MaxHold"/> in a row, so that a long on-sale delays mail, never stops it.
/// </summary>
public sealed class DrainPriority(TimeProvider timeProvider)
{
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(15);

    /// <summary>How long the drain's last look at the events in line counts: a drain that cannot read Redis knows nothing.</summary>
    public static readonly TimeSpan LineLookLifetime = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private IReadOnlyCollection<long> _eventsInLine = [];
    private DateTime _lineSeenAt = DateTime.MinValue;
    private int _answering;
    private DateTime _lastBusy = DateTime.MinValue;
    private DateTime _busySince = DateTime.MinValue;

    /// <summary>The drain answers a batch until the scope is disposed.</summary>
    public IDisposable Answering()
    {
        lock (_lock)
        {
            var now = timeProvider.GetUtcNow().UtcDateTime;
            if (_answering == 0 && now - _lastBusy > Quiet)
            {
                _busySince = now;
            }
            _answering++;
        }
        return new Scope(this);
    }

    /// <summary>How long a duty of lower priority should wait before it looks again; null: go ahead.</summary>
    public TimeSpan? HoldBack()
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            return (_answering > 0 || now - _lastBusy < Quiet) && now - _busySince < MaxHold ? Quiet : null;
        }
    }

    /// <summary>The drain's look, each pass, at the events that have requests in their queue (on any worker's lease).</summary>
    public void SawEventsInLine(IReadOnlyCollection<long> events)
    {
        lock (_lock)
        {
            _eventsInLine = events;
            _lineSeenAt = timeProvider.GetUtcNow().UtcDateTime;
        }
    }

    /// <summary>
    /// The events that had requests in line at the drain's last look, if that was recent: their answers' mails wait for
    /// the line to be done (<see cref="Evently.Domain.Notifications.MailQueue.TakeDueAsync"/>).
    /// </summary>
    public IReadOnlyCollection<long> EventsInLine()
    {
        lock (_lock)
        {
            return timeProvider.GetUtcNow().UtcDateTime - _lineSeenAt < LineLookLifetime ? _eventsInLine : [];
        }
    }

    private void Done()
    {
        lock (_lock)
        {
            _answering--;
            _lastBusy = timeProvider.GetUtcNow().UtcDateTime;
        }
    }

    private sealed class Scope(DrainPriority owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Done();
            }
        }
    }
}
