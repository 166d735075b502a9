using Evently.Domain.Analytics;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>A booking a cancellation flipped, with the seats it gave back.</summary>
public sealed record CancelledBooking(long Id, long UserId, int Quantity, DateTime CreatedAt, IReadOnlyList<long> SeatIds);

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
        // One read and one round trip of writes: the event row's lock is held across as few round trips as can be.
        var bookings = await which(db.Bookings.Where(b => b.EventId == eventId && b.Status == BookingStatus.Confirmed))
            .Select(b => new CancelledBooking(b.Id, b.UserId, b.Quantity, b.CreatedAt,
                b.Seats.Where(s => s.Active == true).Select(s => s.SeatId).ToList()))
            .ToListAsync(ct);
        if (bookings.Count == 0)
        {
            return [];
        }
        var ids = bookings.Select(b => (object?)b.Id).ToList();
        var writes = new SqlBatch()
            .Add($"UPDATE bookings SET Status = '{nameof(BookingStatus.Cancelled)}', CancelledAt = ? WHERE Id IN ({SqlBatch.Placeholders(ids.Count)})",
                [now, .. ids])
            .Add("UPDATE events SET Booked = Booked - ?, BookingsCancelled = BookingsCancelled + ? WHERE Id = ?",
                bookings.Sum(b => b.Quantity), bookings.Count, eventId)
            .Add(BookingRollup.RecordSql(eventId, bookings.Select(b => RollupChange.Cancelled(b.CreatedAt, b.Quantity, now)))!);

        // Seats given back; the booking_seats rows stay, released, as the booking's history.
        var seats = bookings.SelectMany(b => b.SeatIds).ToList();
        if (seats.Count > 0)
        {
            writes.Add($"UPDATE booking_seats SET Active = NULL WHERE BookingId IN ({SqlBatch.Placeholders(ids.Count)}) AND Active = TRUE", ids);
            SeatWrites.Release(writes, seats);
        }
        await writes.ExecuteAsync(db, ct);
        return bookings;
    }
}
