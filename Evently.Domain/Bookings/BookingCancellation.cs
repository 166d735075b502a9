using Evently.Domain.Analytics;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>A booking a cancellation flipped, with the seats it gave back.</summary>
public sealed record CancelledBooking(long Id, long UserId, int Quantity, IReadOnlyList<long> SeatIds);

/// <summary>
/// The one way bookings are cancelled, one (a holder's cancel) or many (an event's cancel, in batches): in the
/// caller's transaction, after it locked the event row, the bookings still confirmed are flipped, their tickets and
/// seats given back and the cancellations counted for the analytics. Under the event row's lock nothing else can
/// flip them meanwhile, so a booking is given back exactly once however many cancels race.
/// </summary>
public static class BookingCancellation
{
    public static async Task<List<CancelledBooking>> CancelAsync(
        EventlyDbContext db, long eventId, Func<IQueryable<Booking>, IQueryable<Booking>> which, DateTime now, CancellationToken ct)
    {
        var bookings = await which(db.Bookings.Where(b => b.EventId == eventId && b.Status == BookingStatus.Confirmed))
            .Select(b => new { b.Id, b.UserId, b.Quantity, b.CreatedAt }).ToListAsync(ct);
        if (bookings.Count == 0)
        {
            return [];
        }
        var ids = bookings.Select(b => b.Id).ToList();
        await db.Bookings.Where(b => ids.Contains(b.Id))
            .ExecuteUpdateAsync(b => b.SetProperty(x => x.Status, BookingStatus.Cancelled).SetProperty(x => x.CancelledAt, now), ct);
        var tickets = bookings.Sum(b => b.Quantity);
        await db.Events.Where(e => e.Id == eventId).ExecuteUpdateAsync(e => e
            .SetProperty(x => x.Booked, x => x.Booked - tickets)
            .SetProperty(x => x.BookingsCancelled, x => x.BookingsCancelled + bookings.Count), ct);
        await db.Database.RecordAsync(eventId, bookings.Select(b => RollupChange.Cancelled(b.CreatedAt, b.Quantity, now)), ct);

        // Seats given back; the booking_seats rows stay, released, as the booking's history.
        var seats = await db.BookingSeats.Where(s => ids.Contains(s.BookingId) && s.Active == true)
            .Select(s => new { s.BookingId, s.SeatId }).ToListAsync(ct);
        if (seats.Count > 0)
        {
            await db.BookingSeats.Where(s => ids.Contains(s.BookingId) && s.Active == true)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Active, (bool?)null), ct);
            await SeatWrites.ReleaseAsync(db, seats.Select(s => s.SeatId).ToList(), ct);
        }
        var seatsOf = seats.ToLookup(s => s.BookingId, s => s.SeatId);
        return bookings.Select(b => new CancelledBooking(b.Id, b.UserId, b.Quantity, seatsOf[b.Id].ToList())).ToList();
    }
}
