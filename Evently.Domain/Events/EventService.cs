using Evently.Domain.Bookings;
using Evently.Domain.Common;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Events;

/// <summary>What an admin sets on an event; already validated for shape (see the API's validator).</summary>
public sealed record EventDraft(
    string Name, string Description, string Venue, DateTime StartsAt, DateTime EndsAt, int Capacity,
    bool HighDemand, IReadOnlyList<SeatSection>? Seating);

// Creating, changing and cancelling events: the rules that need the database.
public sealed class EventService(EventlyDbContext db, TimeProvider timeProvider, WaitlistOffers offers)
{
    public async Task<Result<Event>> CreateAsync(EventDraft draft, CancellationToken cancellationToken)
    {
        var now = timeProvider.UtcNow();
        var evt = new Event { Name = draft.Name, Venue = draft.Venue, CreatedAt = now };
        Apply(evt, draft, now);
        // The seats are inserted by the same SaveChanges, hence in the same transaction as the event.
        evt.Seats = draft.Seating is null ? [] : SeatLayout.Create(draft.Seating);
        db.Events.Add(evt);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return EventErrors.DuplicateSeats;
        }
        return evt;
    }

    public async Task<Result<Event>> UpdateAsync(long id, EventDraft draft, CancellationToken cancellationToken) =>
        await db.Database.CreateExecutionStrategy().ExecuteAsync(
            (id, draft), (_, args, ct) => TryUpdateAsync(args.id, args.draft, ct), null, cancellationToken);

    // Bookings change Booked (and Version) all the time, so the update takes the event row's lock before it
    // reads: the rules are checked against the row as it is, and no booking can change it until the commit.
    // Waiting for the lock is a matter of one booking's batch; an optimistic retry could lose to every one.
    private async Task<Result<Event>> TryUpdateAsync(long id, EventDraft draft, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var evt = await db.Events.FromSql($"SELECT * FROM events WHERE Id = {id} FOR UPDATE").SingleOrDefaultAsync(ct);
        if (evt is null)
        {
            return EventErrors.NotFound;
        }
        if (evt.Status == EventStatus.Cancelled)
        {
            return EventErrors.Cancelled;
        }
        if (draft.Capacity < Capacity.Taken(evt.Booked, evt.Held))
        {
            return EventErrors.CapacityBelowBooked(Capacity.Taken(evt.Booked, evt.Held));
        }

        // Seats that bookings refer to, even cancelled ones (their history), cannot be replaced.
        await db.Entry(evt).Collection(e => e.Seats).LoadAsync(ct);
        var layoutChanges = !SameLayout(evt, draft.Seating);
        if (layoutChanges && (evt.Seats.Any(s => s.Status != SeatStatus.Available)
            || await db.BookingSeats.AnyAsync(b => b.Seat!.EventId == id, ct)))
        {
            return EventErrors.SeatingLocked;
        }

        var freedTickets = draft.Capacity - evt.Capacity;
        var (startsAt, endsAt, venue) = (evt.StartsAt, evt.EndsAt, evt.Venue);
        Apply(evt, draft, timeProvider.UtcNow());
        if ((startsAt, endsAt, venue) != (evt.StartsAt, evt.EndsAt, evt.Venue))
        {
            await NotifyHoldersAsync(evt, NotificationKinds.EventChanged,
                $"{evt.Name} has changed: it now takes place {evt.StartsAt:yyyy-MM-dd HH:mm} to {evt.EndsAt:yyyy-MM-dd HH:mm} UTC at {evt.Venue}.",
                evt.UpdatedAt, ct);
        }
        if (layoutChanges)
        {
            db.Seats.RemoveRange(evt.Seats);
            evt.Seats = draft.Seating is null ? [] : SeatLayout.Create(draft.Seating);
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return EventErrors.DuplicateSeats;
        }
        if (freedTickets > 0)
        {
            // More tickets for sale: the waitlist gets first refusal, before the commit lets anyone book them.
            await offers.OfferFreedTicketsAsync(evt.Id, evt.UpdatedAt, [], ct);
        }
        await transaction.CommitAsync(ct);
        return evt;
    }

    /// <summary>
    /// Cancels the event and, in the same transaction, every active booking of it, returning their
    /// seats and notifying their holders. Cancelling a cancelled event changes nothing.
    /// </summary>
    /// <returns>The number of bookings cancelled.</returns>
    public async Task<Result<int>> CancelAsync(long id, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync<object?, Result<int>>(null, async (_, _, ct) =>
        {
            db.ChangeTracker.Clear();
            var now = timeProvider.UtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);

            // Locks the event row: a booking racing with this waits, then finds the event cancelled.
            var cancelled = await db.Events
                .Where(e => e.Id == id && e.Status == EventStatus.Scheduled)
                .ExecuteUpdateAsync(e => e
                    .SetProperty(x => x.Status, EventStatus.Cancelled)
                    .SetProperty(x => x.Held, 0)
                    .SetProperty(x => x.Version, x => x.Version + 1)
                    .SetProperty(x => x.UpdatedAt, now), ct);
            if (cancelled == 0)
            {
                return await db.Events.AnyAsync(e => e.Id == id, ct) ? 0 : EventErrors.NotFound;
            }

            var bookings = await BookingCancellation.CancelAsync(db, id, all => all, now, ct);
            // Seats held for waitlist offers too: the line closes below.
            await db.Seats.Where(s => s.EventId == id)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Available), ct);

            var eventName = await db.Events.Where(e => e.Id == id).Select(e => e.Name).SingleAsync(ct);
            foreach (var userId in bookings.Select(b => b.UserId).Distinct())
            {
                db.Notify(userId, NotificationKinds.EventCancelled, id, $"{eventName} has been cancelled; your booking is cancelled too.", now);
            }

            // The line closes in the same transaction: Held is 0 now, so no offer may stay open to be expired,
            // given up or claimed against it.
            var waiting = await db.WaitlistEntries
                .Where(w => w.EventId == id && (w.Status == WaitlistStatus.Waiting || w.Status == WaitlistStatus.Offered))
                .Select(w => w.UserId).ToListAsync(ct);
            await db.WaitlistEntries
                .Where(w => w.EventId == id && (w.Status == WaitlistStatus.Waiting || w.Status == WaitlistStatus.Offered))
                .ExecuteUpdateAsync(w => w
                    .SetProperty(x => x.Status, WaitlistStatus.Expired)
                    .SetProperty(x => x.Active, (bool?)null)
                    .SetProperty(x => x.HeldSeatIds, (string?)null), ct);
            foreach (var userId in waiting.Distinct())
            {
                db.Notify(userId, NotificationKinds.EventCancelled, id, $"{eventName} has been cancelled; you are no longer on its waitlist.", now);
            }
            db.OutboxMessages.Add(new OutboxMessage { Kind = OutboxKinds.EventCancelled, EventId = id, CreatedAt = now });
            await db.SaveChangesAsync(ct);

            await transaction.CommitAsync(ct);
            return bookings.Count;
        }, null, cancellationToken);
    }

    // Everyone holding a confirmed booking of the event hears of it, in the same transaction as the change.
    private async Task NotifyHoldersAsync(Event evt, string kind, string message, DateTime now, CancellationToken ct)
    {
        var holders = await db.Bookings.Where(b => b.EventId == evt.Id && b.Status == BookingStatus.Confirmed)
            .Select(b => b.UserId).Distinct().ToListAsync(ct);
        foreach (var userId in holders)
        {
            db.Notify(userId, kind, evt.Id, message, now);
        }
    }

    private static void Apply(Event evt, EventDraft draft, DateTime now)
    {
        evt.Name = draft.Name;
        evt.Description = draft.Description;
        evt.Venue = draft.Venue;
        evt.StartsAt = Clock.ToStoredPrecision(draft.StartsAt);
        evt.EndsAt = Clock.ToStoredPrecision(draft.EndsAt);
        evt.Capacity = draft.Capacity;
        evt.HighDemand = draft.HighDemand;
        evt.HasSeating = draft.Seating is not null;
        evt.UpdatedAt = now;
        evt.Version++;
    }

    private static bool SameLayout(Event evt, IReadOnlyList<SeatSection>? seating)
    {
        var wanted = seating is null ? [] : SeatLayout.Create(seating);
        return wanted.Count == evt.Seats.Count
            && wanted.Select(SeatKey).ToHashSet().SetEquals(evt.Seats.Select(SeatKey));

        static string SeatKey(Seat seat) => $"{seat.Section}\n{seat.Row}\n{seat.Number}";
    }
}
