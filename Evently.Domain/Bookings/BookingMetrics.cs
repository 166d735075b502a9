using System.Diagnostics.Metrics;

namespace Evently.Domain.Bookings;

// Counters shown on the dashboard: bookings made, cancelled and refused (by reason), and how many direct
// bookings shared a transaction.
public sealed class BookingMetrics
{
    public const string MeterName = "Evently.Bookings";

    private readonly Counter<long> _made;
    private readonly Counter<long> _cancelled;
    private readonly Counter<long> _refused;
    private readonly Histogram<int> _batchSize;

    public BookingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _made = meter.CreateCounter<long>("evently.bookings.made", "{booking}", "Bookings confirmed");
        _cancelled = meter.CreateCounter<long>("evently.bookings.cancelled", "{booking}", "Bookings cancelled");
        _refused = meter.CreateCounter<long>("evently.bookings.refused", "{booking}", "Bookings refused, by reason");
        _batchSize = meter.CreateHistogram<int>("evently.bookings.direct.batch_size", "{booking}",
            "Direct bookings written in one transaction");
    }

    public void Made(int tickets) => _made.Add(1, new KeyValuePair<string, object?>("tickets", tickets));
    public void Cancelled() => _cancelled.Add(1);
    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
    public void Batched(int bookings, bool written) => _batchSize.Record(bookings, new KeyValuePair<string, object?>("written", written));
}
