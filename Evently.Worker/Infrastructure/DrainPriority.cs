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

    private readonly Lock _lock = new();
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
