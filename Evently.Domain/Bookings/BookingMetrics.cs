using System.Diagnostics.Metrics;

namespace Evently.Domain.Bookings;

// Counters shown on the dashboard: bookings made, cancelled and refused (by reason).
public sealed class BookingMetrics
{
    public const string MeterName = "Evently.Bookings";

    private readonly Counter<long> _made;
    private readonly Counter<long> _cancelled;
    private readonly Counter<long> _refused;

    public BookingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _made = meter.CreateCounter<long>("evently.bookings.made", "{booking}", "Bookings confirmed");
        _cancelled = meter.CreateCounter<long>("evently.bookings.cancelled", "{booking}", "Bookings cancelled");
        _refused = meter.CreateCounter<long>("evently.bookings.refused", "{booking}", "Bookings refused, by reason");
    }

    public void Made(int tickets) => _made.Add(1, new KeyValuePair<string, object?>("tickets", tickets));
    public void Cancelled() => _cancelled.Add(1);
    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
