using Evently.Domain.Bookings;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Events;

/// <summary>
/// What an admin's change leaves to the worker, one batch per transaction (the outbox row's, which stays open until
/// the last batch): an event's cancel cancels its bookings, holder by holder, and closes its line; an event's move
/// tells its holders. A holder's bookings are all handled in one batch, so every holder hears of it exactly once, and
/// every batch leaves the event's counters equal to its rows (Booked to the bookings still confirmed, Held to the
/// offers still open).
/// </summary>
public sealed class EventCascades(EventlyDbContext db)
{
    public const int HoldersPerBatch = 500;
    public const int EntriesPerBatch = 1_000;

    /// <summary>The next batch of a cancelled event: the bookings of the next holders, else the next entries of its line.</summary>
    /// <returns>Whether the cancel is complete.</returns>
    public async Task<bool> CancelNextBatchAsync(OutboxMessage message, CancellationToken ct)
    {
        var eventId = message.EventId;
        var evt = await db.Events.FromSql($"SELECT * FROM events WHERE Id = {eventId} FOR UPDATE").AsNoTracking().SingleAsync(ct);
        // Cancelled as of the admin's cancel, whenever the batch runs.
        var cancelledAt = message.CreatedAt;
        var holders = await NextHoldersAsync(eventId, after: null, ct);
        if (holders.Count > 0)
        {
            await BookingCancellation.CancelAsync(db, eventId, bookings => bookings.Where(b => holders.Contains(b.UserId)), cancelledAt, ct);
            foreach (var userId in holders)
            {
                db.Notify(userId, NotificationKinds.EventCancelled, eventId, $"{evt.Name} has been cancelled; your booking is cancelled too.", cancelledAt);
            }
            return false;
        }

        var line = await db.WaitlistEntries
            .Where(w => w.EventId == eventId && (w.Status == WaitlistStatus.Waiting || w.Status == WaitlistStatus.Offered))
            .OrderBy(w => w.Id).Take(EntriesPerBatch).ToListAsync(ct);
        foreach (var entry in line)
        {
            if (entry.Status == WaitlistStatus.Offered)
            {
                await OfferService.ReleaseHoldAsync(db, entry, ct, adjustEvent: true);
            }
            entry.Status = WaitlistStatus.Expired;
            entry.Active = null;
            db.Notify(entry.UserId, NotificationKinds.EventCancelled, eventId, $"{evt.Name} has been cancelled; you are no longer on its waitlist.", cancelledAt);
        }
        return line.Count == 0;
    }

    /// <summary>The next batch of a moved event's notice: the next holders (after the row's cursor) hear of it.</summary>
    /// <returns>Whether every holder has heard.</returns>
    public async Task<bool> NotifyNextBatchAsync(OutboxMessage message, CancellationToken ct)
    {
        var holders = await NextHoldersAsync(message.EventId, after: message.Cursor ?? 0, ct);
        foreach (var userId in holders)
        {
            db.Notify(userId, NotificationKinds.EventChanged, message.EventId, message.Message!, message.CreatedAt);
        }
        message.Cursor = holders.Count > 0 ? holders[^1] : message.Cursor;
        return holders.Count < HoldersPerBatch;
    }

    // Holders in user id order, read from the bookings' (EventId, Status, UserId) index: a batch costs its own rows.
    private Task<List<long>> NextHoldersAsync(long eventId, long? after, CancellationToken ct) =>
        db.Bookings.Where(b => b.EventId == eventId && b.Status == BookingStatus.Confirmed && (after == null || b.UserId > after))
            .Select(b => b.UserId).Distinct().OrderBy(u => u).Take(HoldersPerBatch).ToListAsync(ct);
}
