using System.Data;
using System.Diagnostics;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Evently.Domain.Waitlist;

/// <summary>
/// The worker's side of the waitlist: expires offers nobody claimed, passing their tickets on in the same
/// transaction. Every step is one transaction that locks the event row before it counts free tickets, so several
/// workers can run it at once.
/// </summary>
public sealed class OfferService(EventlyDbContext db, TimeProvider timeProvider, WaitlistOffers offers, WaitlistMetrics metrics)
{
    /// <summary>Expires one offer past its time, if any: its tickets go to the next in line, or back to sale.</summary>
    /// <returns>Whether an offer expired.</returns>
    public async Task<bool> ExpireNextOfferAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.UtcNow();
        var due = await db.WaitlistEntries.AsNoTracking()
            .Where(w => w.Status == WaitlistStatus.Offered && w.OfferExpiresAt <= now)
            .OrderBy(w => w.OfferExpiresAt).Select(w => new { w.Id, w.EventId }).FirstOrDefaultAsync(cancellationToken);
        if (due is null)
        {
            return false;
        }
        await db.Database.CreateExecutionStrategy().ExecuteAsync(
            (due.Id, due.EventId), (_, offer, ct) => TryExpireAsync(offer.Id, offer.EventId, ct), null, cancellationToken);
        return true;
    }

    private async Task<bool> TryExpireAsync(long entryId, long eventId, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // The event row first (as a claim does), then the entry, still offered and past its time: of a
        // claim and an expiry racing, or two workers, exactly one changes it.
        var evt = await db.Events.FromSql($"SELECT * FROM events WHERE Id = {eventId} FOR UPDATE").SingleAsync(ct);
        var entry = await db.WaitlistEntries.SingleAsync(w => w.Id == entryId, ct);
        if (entry.Status != WaitlistStatus.Offered || entry.OfferExpiresAt > now)
        {
            return false;
        }

        var seats = entry.HeldSeats();
        await ReleaseHoldAsync(db, entry, ct);
        evt.Held -= entry.Quantity;
        evt.Version++;
        entry.Status = WaitlistStatus.Expired;
        entry.Active = null;
        db.Notify(entry.UserId, NotificationKinds.OfferExpired, eventId,
            $"Your offer of {entry.Quantity} ticket(s) for {evt.Name} has expired; they went to the next in line.", now);
        await db.SaveChangesAsync(ct);
        // The same transaction passes them on: to the next in line, or back to sale when nobody fits.
        await offers.OfferFreedTicketsAsync(eventId, now, seats, ct);
        await transaction.CommitAsync(ct);
        metrics.Expired();
        return true;
    }

    /// <summary>When the next open offer expires, if any is open.</summary>
    public Task<DateTime?> NextExpiryAsync(CancellationToken cancellationToken) =>
        db.WaitlistEntries.Where(w => w.Status == WaitlistStatus.Offered).MinAsync(w => w.OfferExpiresAt, cancellationToken);

    /// <summary>
    /// Gives an offer's held seats back to sale. The caller holds the event row's lock and adjusts Held
    /// itself when it has the event tracked; with <paramref name="adjustEvent"/> it is done here.
    /// </summary>
    internal static async Task ReleaseHoldAsync(EventlyDbContext db, WaitlistEntry entry, CancellationToken ct, bool adjustEvent = false)
    {
        var seatIds = entry.HeldSeats();
        if (seatIds.Count > 0)
        {
            await db.Seats.Where(s => seatIds.Contains(s.Id) && s.Status == SeatStatus.Held)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Available), ct);
        }
        if (adjustEvent)
        {
            await db.Events.Where(e => e.Id == entry.EventId)
                .ExecuteUpdateAsync(e => e.SetProperty(x => x.Held, x => x.Held - entry.Quantity), ct);
        }
        entry.HeldSeatIds = null;
    }
}
