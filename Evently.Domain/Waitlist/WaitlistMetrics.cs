using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Evently.Domain.Waitlist;

// Offers made, claimed and expired, and how long an outbox row waited for the worker (the dashboard's view of
// the waitlist). The activity source carries the trace of the request that freed the tickets into the worker.
public sealed class WaitlistMetrics
{
    public const string MeterName = "Evently.Waitlist";
    public static readonly ActivitySource ActivitySource = new("Evently.Waitlist");

    private readonly Counter<long> _offered;
    private readonly Counter<long> _claimed;
    private readonly Counter<long> _expired;
    private readonly Histogram<double> _outboxLag;

    public WaitlistMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _offered = meter.CreateCounter<long>("evently.waitlist.offers.made", "{offer}", "Offers made to waiting entries");
        _claimed = meter.CreateCounter<long>("evently.waitlist.offers.claimed", "{offer}", "Offers claimed as bookings");
        _expired = meter.CreateCounter<long>("evently.waitlist.offers.expired", "{offer}", "Offers that expired unclaimed");
        _outboxLag = meter.CreateHistogram<double>("evently.outbox.lag", "s", "Time from an outbox row's commit to its processing");
    }

    public void Offered() => _offered.Add(1);
    public void Claimed() => _claimed.Add(1);
    public void Expired() => _expired.Add(1);
    public void OutboxLag(TimeSpan lag) => _outboxLag.Record(Math.Max(0, lag.TotalSeconds));
}
