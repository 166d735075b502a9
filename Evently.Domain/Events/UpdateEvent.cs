using System.Data;
using Evently.Domain.Common;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Events;

/// <summary>
/// Changes an event. Bookings change Booked (and Version) all the time, so the update takes the event row's lock
/// before it reads: the rules are checked against the row as it is, and no booking can change it until the commit.
/// Waiting for the lock is a matter of one booking's batch; an optimistic retry could lose to every one. The
/// holders of a moved event hear of it through the outbox, in batches (<see cref="EventCascades"/>), so an event of
/// any size changes within a request's deadline.
/// </summary>
public sealed class UpdateEvent(EventlyDbContext db, TimeProvider timeProvider, WaitlistOffers offers)
{
    public async Task<Result<Event>> HandleAsync(long id, EventDraft draft, CancellationToken cancellationToken) =>
        await db.Database.CreateExecutionStrategy().ExecuteAsync(
            (id, draft), (_, args, ct) => TryUpdateAsync(args.id, args.draft, ct), null, cancellationToken);

    private async Task<Result<Event>> TryUpdateAsync(long id, EventDraft draft, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
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
        var layoutChanges = !await SeatRows.MatchAsync(db, id, draft.Seating, ct);
        if (layoutChanges && (await db.Seats.AnyAsync(s => s.EventId == id && s.Status != SeatStatus.Available, ct)
            || await db.BookingSeats.AnyAsync(b => b.Seat!.EventId == id, ct)))
        {
            return EventErrors.SeatingLocked;
        }

        var freedTickets = draft.Capacity - evt.Capacity;
        var (startsAt, endsAt, venue) = (evt.StartsAt, evt.EndsAt, evt.Venue);
        EventDrafts.Apply(evt, draft, timeProvider.UtcNow());
        if ((startsAt, endsAt, venue) != (evt.StartsAt, evt.EndsAt, evt.Venue))
        {
            db.OutboxMessages.Add(new OutboxMessage
            {
                Kind = OutboxKinds.EventChanged, EventId = evt.Id, CreatedAt = evt.UpdatedAt,
                Message = $"{evt.Name} has changed: it now takes place {evt.StartsAt:yyyy-MM-dd HH:mm} to {evt.EndsAt:yyyy-MM-dd HH:mm} UTC at {evt.Venue}."
            });
        }
        await db.SaveChangesAsync(ct);
        if (layoutChanges)
        {
            await db.Seats.Where(s => s.EventId == id).ExecuteDeleteAsync(ct);
            if (draft.Seating is { } seating)
            {
                try
                {
                    await SeatRows.InsertAsync(db, id, seating, ct);
                }
                catch (MySqlConnector.MySqlException ex) when (ex.ErrorCode == MySqlConnector.MySqlErrorCode.DuplicateKeyEntry)
                {
                    await transaction.RollbackAsync(ct);
                    return EventErrors.DuplicateSeats;
                }
            }
        }
        if (freedTickets > 0)
        {
            // More tickets for sale: the waitlist gets first refusal, before the commit lets anyone book them.
            await offers.OfferFreedTicketsAsync(evt.Id, evt.UpdatedAt, [], ct);
        }
        await transaction.CommitAsync(ct);
        return evt;
    }
}

/// <summary>How a draft sets an event's fields, the same on create and update.</summary>
internal static class EventDrafts
{
    public static void Apply(Event evt, EventDraft draft, DateTime now)
    {
        evt.Name = draft.Name;
        evt.Description = draft.Description;
        evt.Venue = draft.Venue;
        evt.StartsAt = Clock.ToStoredPrecision(draft.StartsAt);
        evt.EndsAt = Clock.ToStoredPrecision(draft.EndsAt);
        evt.Capacity = draft.Capacity;
        evt.HighDemand = draft.HighDemand;
        evt.SalesStartAt = draft.SalesStartAt is { } salesStartAt ? Clock.ToStoredPrecision(salesStartAt) : null;
        evt.HasSeating = draft.Seating is not null;
        evt.UpdatedAt = now;
        evt.Version++;
    }
}
