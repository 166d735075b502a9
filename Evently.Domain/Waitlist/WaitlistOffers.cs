using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Evently.Domain.Waitlist;

/// <summary>
/// Gives tickets that came back to the line, in the transaction that gave them back: whatever frees tickets (a
/// cancel, an offer expired or given up, a capacity raised, seats released) calls this after it changed the event,
/// with the event row still locked, so no booking of any path can take them in between. First come, first served
/// among the waiting entries whose quantity fits what is free; each offer holds its tickets (and, on a seated
/// event, the seats that came back first) and notifies its holder in the same transaction; the worker mails it.
/// </summary>
public sealed class WaitlistOffers(EventlyDbContext db, IOptions<WaitlistOptions> options, WaitlistMetrics metrics)
{
    // The line is read this many entries at a time, from its head, for as long as tickets are left to offer.
    private const int LineRead = 500;

    /// <param name="freedSeats">Seats that just came back, offered before others on a seated event.</param>
    /// <returns>How many offers were made.</returns>
    public async Task<int> OfferFreedTicketsAsync(long eventId, DateTime now, IReadOnlyCollection<long> freedSeats, CancellationToken ct)
    {
        var waiting = await WaitingAsync(eventId, afterId: 0, fitting: BookingRules.MaxTicketsPerBooking, ct);
        if (waiting.Count == 0)
        {
            return 0;
        }
        // The caller holds the row's lock and may have changed it with set-based writes: read it as it is now.
        var evt = await db.Events.SingleAsync(e => e.Id == eventId, ct);
        await db.Entry(evt).ReloadAsync(ct);
        var free = evt.Available;
        if (evt.Status != EventStatus.Scheduled || evt.StartsAt <= now || free == 0)
        {
            return 0;
        }

        var seats = evt.HasSeating ? await FreeSeatsAsync(eventId, freedSeats, ct) : null;
        var expiresAt = now + options.Value.OfferWindow;
        var offers = 0;
        while (true)
        {
            foreach (var entry in waiting)
            {
                if (!Capacity.Fits(entry.Quantity, free) || (seats is not null && seats.Count < entry.Quantity))
                {
                    continue;
                }
                if (seats is not null)
                {
                    var held = Enumerable.Range(0, entry.Quantity).Select(_ => seats.Dequeue()).ToList();
                    held.ForEach(s => s.Status = SeatStatus.Held);
                    entry.HeldSeatIds = string.Join(',', held.Select(s => s.Id));
                }
                entry.Status = WaitlistStatus.Offered;
                entry.OfferExpiresAt = expiresAt;
                evt.Held += entry.Quantity;
                free -= entry.Quantity;
                db.Notify(entry.UserId, NotificationKinds.WaitlistOffer, eventId,
                    $"{entry.Quantity} ticket(s) for {evt.Name} are held for you until {expiresAt:yyyy-MM-dd HH:mm:ss} UTC: " +
                    $"claim them with POST /api/waitlist/{entry.Id}/claim.", now);
                metrics.Offered();
                offers++;
            }
            if (free == 0 || waiting.Count < LineRead)
            {
                break;
            }
            // Tickets are left and the line goes on: its next entries that fit them, however many did not before.
            waiting = await WaitingAsync(eventId, waiting[^1].Id, free, ct);
        }
        if (offers > 0)
        {
            evt.Version++;
            await db.SaveChangesAsync(ct);
        }
        return offers;
    }

    private Task<List<WaitlistEntry>> WaitingAsync(long eventId, long afterId, int fitting, CancellationToken ct) =>
        db.WaitlistEntries.Where(w => w.EventId == eventId && w.Status == WaitlistStatus.Waiting && w.Id > afterId && w.Quantity <= fitting)
            .OrderBy(w => w.Id).Take(LineRead).ToListAsync(ct);

    // The seats that came back first, then the others available, in seat id order.
    private async Task<Queue<Seat>> FreeSeatsAsync(long eventId, IReadOnlyCollection<long> freedSeats, CancellationToken ct)
    {
        var available = await db.Seats.Where(s => s.EventId == eventId && s.Status == SeatStatus.Available).OrderBy(s => s.Id).ToListAsync(ct);
        return new Queue<Seat>(available.OrderBy(s => freedSeats.Contains(s.Id) ? 0 : 1).ThenBy(s => s.Id));
    }
}
