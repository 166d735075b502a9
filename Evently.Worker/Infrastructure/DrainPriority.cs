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
    private DateTime _lastBusy = DateTime.MinValue;
    private DateTime _busySince = DateTime.MinValue;

    /// <summary>The drain took a batch to answer, or answered one, just now.</summary>
    public void Busy()
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            if (now - _lastBusy > Quiet)
            {
                _busySince = now;
            }
            _lastBusy = now;
        }
    }

    /// <summary>How long a duty of lower priority should wait before it looks again; null: go ahead.</summary>
    public TimeSpan? HoldBack()
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            return now - _lastBusy < Quiet && now - _busySince < MaxHold ? Quiet : null;
        }
    }
}
