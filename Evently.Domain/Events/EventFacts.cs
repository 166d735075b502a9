using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Events;

/// <summary>
/// What a booking needs to know of an event before it is written: whether it can be booked at all, which path
/// takes it, and which seats are its own. Changed only by admin changes, so the API caches it.
/// </summary>
public sealed record EventFacts(
    long Id, EventStatus Status, DateTime StartsAt, bool HighDemand, bool HasSeating, IReadOnlyList<SeatIdRange> SeatIds,
    DateTime? SalesStartAt = null)
{
    /// <summary>Whether bookings are open at <paramref name="now"/> (no opening time, or it has passed).</summary>
    public bool OnSale(DateTime now) => SalesStartAt is not { } opens || opens <= now;

    /// <summary>Whether the seat is one of the event's.</summary>
    public bool HasSeat(long seatId)
    {
        // Ranges in ascending order, a handful for a layout inserted at once: a binary search, no set of 100,000 ids.
        int low = 0, high = SeatIds.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var range = SeatIds[middle];
            if (seatId < range.First)
            {
                high = middle - 1;
            }
            else if (seatId > range.Last)
            {
                low = middle + 1;
            }
            else
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The facts as the database has them, or null for an unknown event: two reads, the seats as ranges of ids.</summary>
    public static async Task<EventFacts?> LoadAsync(EventlyDbContext db, long id, CancellationToken cancellationToken)
    {
        var evt = await db.Events.AsNoTracking().Where(e => e.Id == id)
            .Select(e => new { e.Status, e.StartsAt, e.HighDemand, e.HasSeating, e.SalesStartAt }).SingleOrDefaultAsync(cancellationToken);
        if (evt is null)
        {
            return null;
        }
        // Runs of consecutive ids (gaps and islands): an id minus its rank is the same along a run.
        var seats = !evt.HasSeating ? [] : await db.Database.SqlQuery<SeatIdRange>($"""
            SELECT MIN(Id) AS First, MAX(Id) AS Last
            FROM (SELECT Id, Id - ROW_NUMBER() OVER (ORDER BY Id) AS Run FROM seats WHERE EventId = {id}) AS numbered
            GROUP BY Run ORDER BY First
            """).ToListAsync(cancellationToken);
        return new EventFacts(id, evt.Status, evt.StartsAt, evt.HighDemand, evt.HasSeating, seats, evt.SalesStartAt);
    }

    /// <summary>Facts of an event already read, with the seats that were looked up for a booking.</summary>
    public static EventFacts Of(Event evt, IEnumerable<Seat> seats) => new(evt.Id, evt.Status, evt.StartsAt, evt.HighDemand, evt.HasSeating,
        seats.Where(s => s.EventId == evt.Id).Select(s => new SeatIdRange(s.Id, s.Id)).OrderBy(r => r.First).ToList(), evt.SalesStartAt);
}

/// <summary>Seat ids from <see cref="First"/> to <see cref="Last"/>, both included.</summary>
public sealed record SeatIdRange(long First, long Last);
