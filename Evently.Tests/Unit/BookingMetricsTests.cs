using System.Diagnostics.Metrics;
using Evently.Domain.Bookings;
using Microsoft.Extensions.DependencyInjection;

namespace Evently.Tests.Unit;

public sealed class BookingMetricsTests
{
    [Fact]
    public void Counters_are_published_on_the_Evently_Bookings_meter()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new BookingMetrics(services.GetRequiredService<IMeterFactory>());
        var measured = new List<(string Instrument, long Value, string? Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == BookingMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measured.Add((instrument.Name, value, tags.ToArray().FirstOrDefault(t => t.Key == "reason").Value as string)));
        listener.Start();

        metrics.Made(2);
        metrics.Cancelled();
        metrics.Refused("sold-out");

        Assert.Equal(
            [("evently.bookings.made", 1L, null), ("evently.bookings.cancelled", 1L, null), ("evently.bookings.refused", 1L, "sold-out")],
            measured);
    }
}
