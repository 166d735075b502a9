using System.Data;
using Evently.Domain.Bookings;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Evently.Domain.Waitlist;

/// <summary>An entry as the caller sees it: its place among the entries still waiting (0 once out of the line).</summary>
public sealed record WaitlistPlace(WaitlistEntry Entry, int Position);

/// <summary>What leaving did: whether the entry left now (false: it had left already), and how many offers its given-up
/// offer passed on, which the worker mails and expires.</summary>
public readonly record struct LeaveOutcome(bool Left, int Offers);

// Joining and leaving the line of a sold-out event. Offers are made where tickets come back (WaitlistOffers),
// claims are bookings (ClaimOffer).
public sealed class WaitlistService(EventlyDbContext db, TimeProvider timeProvider, WaitlistOffers offers)
{
    public async Task<Result<WaitlistPlace>> JoinAsync(long userId, long eventId, int? quantity, CancellationToken cancellationToken)
    {
        if (quantity is not (>= 1 and <= BookingRules.MaxTicketsPerBooking))
        {
            return WaitlistErrors.InvalidQuantity(BookingRules.MaxTicketsPerBooking);
        }

        // The join's time, stored to the microsecond, tells a retry after a lost commit its own entry from an earlier join.
        var join = new Join(userId, eventId, quantity.Value, timeProvider.UtcNow());
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(join, TryJoinAsync, VerifyJoinedAsync, cancellationToken);
    }

    private sealed record Join(long UserId, long EventId, int Quantity, DateTime At);

    // Before a retry: the entry this join made, if its commit happened although the reply was lost.
    private async Task<ExecutionResult<Result<WaitlistPlace>>> VerifyJoinedAsync(DbContext _, Join join, CancellationToken ct) =>
        await db.WaitlistEntries.AsNoTracking().SingleOrDefaultAsync(
                w => w.UserId == join.UserId && w.EventId == join.EventId && w.CreatedAt == join.At, ct) is { } entry
            ? new ExecutionResult<Result<WaitlistPlace>>(true, await PlaceAsync(entry, ct))
            : new ExecutionResult<Result<WaitlistPlace>>(false, default);

    private async Task<Result<WaitlistPlace>> TryJoinAsync(DbContext _, Join join, CancellationToken ct)
    {
        var (userId, eventId, quantity, now) = join;
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // The event row's lock, as cancels (which free tickets) and the worker's offers take it: a join either
        // sees the tickets they freed or is in line before the offers are made. Joins of one event take
        // their turns, so each sees every earlier entry committed and its position is never shared.
        var evt = await db.Events.FromSql($"SELECT * FROM events WHERE Id = {eventId} FOR UPDATE")
            .AsNoTracking().SingleOrDefaultAsync(ct);
        if (evt is null || evt.Status == EventStatus.Cancelled)
        {
            return BookingErrors.EventNotFound;
        }
        if (evt.StartsAt <= now)
        {
            return BookingErrors.EventStarted;
        }
        if (evt.Available > 0)
        {
            return WaitlistErrors.NotSoldOut;
        }

        var entry = new WaitlistEntry { EventId = eventId, UserId = userId, Quantity = quantity, CreatedAt = now };
        db.WaitlistEntries.Add(entry);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return WaitlistErrors.AlreadyWaiting;
        }
        var place = await PlaceAsync(entry, ct);
        await transaction.CommitAsync(ct);
        return place;
    }

    /// <summary>
    /// Leaves the line; an open offer is given up, and its tickets pass to the next in line (the offers this made). Leaving
    /// an entry that has left changes nothing (a client's retry, or this call's own after a lost commit).
    /// </summary>
    public async Task<Result<LeaveOutcome>> LeaveAsync(long entryId, long userId, CancellationToken cancellationToken)
    {
        var entry = await db.WaitlistEntries.AsNoTracking().SingleOrDefaultAsync(w => w.Id == entryId && w.UserId == userId, cancellationToken);
        if (entry is null)
        {
            return WaitlistErrors.NotFound;
        }
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(
            entry, (_, e, ct) => TryLeaveAsync(e, ct), null, cancellationToken);
    }

    private async Task<Result<LeaveOutcome>> TryLeaveAsync(WaitlistEntry entry, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // The event row first, as every write that may change its tickets.
        await db.Events.Where(e => e.Id == entry.EventId).ExecuteUpdateAsync(e => e.SetProperty(x => x.Version, x => x.Version + 1), ct);
        var current = await db.WaitlistEntries.SingleAsync(w => w.Id == entry.Id, ct);
        if (current.Status == WaitlistStatus.Left)
        {
            return new LeaveOutcome(false, 0);
        }
        if (current.Status is not (WaitlistStatus.Waiting or WaitlistStatus.Offered))
        {
            return WaitlistErrors.NotWaiting;
        }

        var hadOffer = current.Status == WaitlistStatus.Offered;
        var seats = current.HeldSeats();
        if (hadOffer)
        {
            await OfferService.ReleaseHoldAsync(db, current, ct, adjustEvent: true);
        }
        current.Status = WaitlistStatus.Left;
        current.Active = null;
        await db.SaveChangesAsync(ct);
        // An offer given up passes to the next in line in the same transaction, or back to sale.
        var offered = hadOffer ? await offers.OfferFreedTicketsAsync(current.EventId, now, seats, ct) : 0;
        await transaction.CommitAsync(ct);
        return new LeaveOutcome(true, offered);
    }

    /// <summary>The caller's entries, newest first, with their places in line.</summary>
    public async Task<(List<WaitlistPlace> Items, int Total)> ListAsync(long userId, long? eventId, int skip, int take,
        CancellationToken cancellationToken)
    {
        var entries = db.WaitlistEntries.AsNoTracking().Where(w => w.UserId == userId);
        if (eventId is { } id)
        {
            entries = entries.Where(w => w.EventId == id);
        }
        var total = await entries.CountAsync(cancellationToken);
        var page = await entries.OrderByDescending(w => w.Id).Skip(skip).Take(take)
            .Select(w => new WaitlistPlace(w, w.Status == WaitlistStatus.Waiting
                ? db.WaitlistEntries.Count(o => o.EventId == w.EventId && o.Status == WaitlistStatus.Waiting && o.Id <= w.Id)
                : 0))
            .ToListAsync(cancellationToken);
        return (page, total);
    }

    private async Task<WaitlistPlace> PlaceAsync(WaitlistEntry entry, CancellationToken ct) =>
        new(entry, entry.Status != WaitlistStatus.Waiting ? 0 : await db.WaitlistEntries
            .CountAsync(o => o.EventId == entry.EventId && o.Status == WaitlistStatus.Waiting && o.Id <= entry.Id, ct));
}
