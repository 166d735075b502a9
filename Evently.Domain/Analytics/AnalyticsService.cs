using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Analytics;

/// <summary>A range of whole UTC days, both ends included.</summary>
public sealed record DayRange(DateOnly From, DateOnly To)
{
    public const int DefaultDays = 30;
    public const int MaxDays = 366;

    /// <summary>The days a MySQL DATE column is documented to hold; a day outside them is a client's mistake.</summary>
    public static readonly DateOnly FirstDay = new(1000, 1, 1), LastDay = new(9999, 12, 31);

    public int Days => To.DayNumber - From.DayNumber + 1;

    /// <summary>
    /// The range asked for: <paramref name="to"/> defaults to today (UTC), <paramref name="from"/> to 29 days
    /// before <c>to</c> (never before <see cref="FirstDay"/>), so that no parameter at all means the last 30 days,
    /// today included.
    /// </summary>
    public static Result<DayRange> Resolve(DateOnly? from, DateOnly? to, DateOnly today)
    {
        foreach (var (name, day) in new[] { ("from", from), ("to", to) })
        {
            if (day is { } d && (d < FirstDay || d > LastDay))
            {
                return Validation.Error(name, $"{name} must be a day from {FirstDay:yyyy-MM-dd} to {LastDay:yyyy-MM-dd}.");
            }
        }
        var end = to ?? today;
        var start = from ?? DateOnly.FromDayNumber(Math.Max(FirstDay.DayNumber, end.DayNumber + 1 - DefaultDays));
        var range = new DayRange(start, end);
        if (end < start)
        {
            return Validation.Error("to", $"to ({end:yyyy-MM-dd}) is before from ({start:yyyy-MM-dd}).");
        }
        if (range.Days > MaxDays)
        {
            return Validation.Error("from", $"The range spans {range.Days} days; at most {MaxDays} are allowed.");
        }
        return range;
    }

}

// The answers of /api/analytics, shaped as the contract says (plus the range that was used), so the API
// returns them as they are.

public sealed record DailyBookings(DateOnly Date, int Bookings, int Cancellations, long TicketsSold);

public sealed record BookingAnalytics(
    long TotalBookings, long ConfirmedBookings, long CancelledBookings, long TicketsSold, double CancellationRate,
    IReadOnlyList<DailyBookings> Daily, DateOnly From, DateOnly To);

public sealed record EventAnalytics(
    long EventId, string Name, int TicketsSold, int Bookings, int Cancellations, double CancellationRate, double Utilization,
    int Waiting, int OffersOpen, int OffersClaimed, int OffersExpired);

public sealed record EventUtilization(long EventId, string Name, int Capacity, int Booked, double Utilization);

public sealed record UtilizationAnalytics(double Overall, IReadOnlyList<EventUtilization> Events);

/// <summary>
/// The admin's figures, read from the day rollup (<see cref="BookingRollup"/>) and the events' own counters:
/// never from the bookings, however many there are.
/// </summary>
public sealed class AnalyticsService(EventlyDbContext db)
{
    public const int DefaultTop = 10;
    public const int MaxTop = 100;

    /// <summary>How many of the most booked events: 1 to 100, 10 when not given.</summary>
    public static Result<int> Top(int? top)
    {
        var count = top ?? DefaultTop;
        return count is >= 1 and <= MaxTop ? count : Validation.Error("top", $"top must be between 1 and {MaxTop}.");
    }

    /// <summary>
    /// Bookings made in the range, by their status now; each day of the range with the bookings made and
    /// the cancellations made that day (zeros included), and the tickets of that day's bookings still confirmed.
    /// </summary>
    public async Task<BookingAnalytics> BookingsAsync(DayRange range, CancellationToken cancellationToken)
    {
        var days = await db.DailyBookingRollups.AsNoTracking()
            .Where(d => d.Day >= range.From && d.Day <= range.To)
            .GroupBy(d => d.Day)
            .Select(g => new
            {
                Day = g.Key,
                Bookings = g.Sum(d => d.Bookings),
                Cancellations = g.Sum(d => d.Cancellations),
                BookingsCancelled = g.Sum(d => d.BookingsCancelled),
                TicketsSold = g.Sum(d => (long)d.TicketsSold)
            })
            .ToDictionaryAsync(d => d.Day, cancellationToken);

        var daily = Enumerable.Range(0, range.Days).Select(range.From.AddDays)
            .Select(day => days.TryGetValue(day, out var d)
                ? new DailyBookings(day, d.Bookings, d.Cancellations, d.TicketsSold)
                : new DailyBookings(day, 0, 0, 0))
            .ToList();
        long total = days.Values.Sum(d => (long)d.Bookings);
        long cancelled = days.Values.Sum(d => (long)d.BookingsCancelled);
        return new BookingAnalytics(total, total - cancelled, cancelled, daily.Sum(d => d.TicketsSold), Rate(cancelled, total), daily,
            range.From, range.To);
    }

    /// <summary>Events with at least one booking, most tickets (of confirmed bookings) first, then by id.</summary>
    public async Task<List<EventAnalytics>> MostBookedAsync(int top, CancellationToken cancellationToken)
    {
        var events = await db.Events.AsNoTracking()
            .Where(e => e.BookingsMade > 0)
            .OrderByDescending(e => e.Booked).ThenBy(e => e.Id)
            .Take(top)
            .Select(e => new { e.Id, e.Name, e.Booked, e.BookingsMade, e.BookingsCancelled, e.Capacity })
            .ToListAsync(cancellationToken);
        // The lines of those events, by state: one grouped read on the line's index, whatever its length.
        var ids = events.Select(e => e.Id).ToList();
        var lines = (await db.WaitlistEntries.AsNoTracking().Where(w => ids.Contains(w.EventId))
                .GroupBy(w => new { w.EventId, w.Status }).Select(g => new { g.Key.EventId, g.Key.Status, Count = g.Count() })
                .ToListAsync(cancellationToken))
            .ToDictionary(l => (l.EventId, l.Status), l => l.Count);
        int Line(long eventId, WaitlistStatus status) => lines.GetValueOrDefault((eventId, status));
        return events
            .Select(e => new EventAnalytics(e.Id, e.Name, e.Booked, e.BookingsMade, e.BookingsCancelled,
                Rate(e.BookingsCancelled, e.BookingsMade), Rate(e.Booked, e.Capacity),
                Line(e.Id, WaitlistStatus.Waiting), Line(e.Id, WaitlistStatus.Offered), Line(e.Id, WaitlistStatus.Booked),
                Line(e.Id, WaitlistStatus.Expired)))
            .ToList();
    }

    /// <summary>Scheduled events (past ones too), fullest first; overall = all their booked tickets / all their capacity.</summary>
    public async Task<UtilizationAnalytics> UtilizationAsync(CancellationToken cancellationToken)
    {
        var events = await db.Events.AsNoTracking()
            .Where(e => e.Status == EventStatus.Scheduled)
            .Select(e => new { e.Id, e.Name, e.Capacity, e.Booked })
            .ToListAsync(cancellationToken);
        var fills = events
            .Select(e => new EventUtilization(e.Id, e.Name, e.Capacity, e.Booked, Rate(e.Booked, e.Capacity)))
            .OrderByDescending(e => e.Utilization).ThenBy(e => e.EventId)
            .ToList();
        return new UtilizationAnalytics(Rate(events.Sum(e => (long)e.Booked), events.Sum(e => (long)e.Capacity)), fills);
    }

    /// <summary>part / whole, and 0 when there is no whole.</summary>
    public static double Rate(long part, long whole) => whole == 0 ? 0 : (double)part / whole;
}

file static class Validation
{
    public static DomainError Error(string field, string message) =>
        new(ErrorKind.Invalid, "validation", message, new Dictionary<string, string[]> { [field] = [message] });
}
