using System.Data;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>What a cancel did: whether it gave the tickets back (false: the booking was cancelled already), and how many
/// offers it made to the waitlist, which the worker mails and expires.</summary>
public readonly record struct CancelOutcome(bool Cancelled, int Offers);

/// <summary>
/// Cancels a booking (its holder, or an admin): its tickets and seats return, and the waitlist is offered them,
/// in one transaction. Cancelling a cancelled booking changes nothing; of racing cancels exactly one gives back.
/// </summary>
public sealed class CancelBooking(EventlyDbContext db, TimeProvider timeProvider, WaitlistOffers offers, BookingMetrics metrics)
{
    public async Task<Result<CancelOutcome>> HandleAsync(long bookingId, long callerId, bool callerIsAdmin, CancellationToken cancellationToken)
    {
        var booking = await db.Bookings.AsNoTracking().Include(b => b.Event)
            .SingleOrDefaultAsync(b => b.Id == bookingId, cancellationToken);
        if (booking is null || (booking.UserId != callerId && !callerIsAdmin))
        {
            return BookingErrors.NotFound;
        }
        if (booking.StatusAsRead == BookingStatus.Cancelled)
        {
            return new CancelOutcome(false, 0);
        }
        if (booking.Event!.StartsAt <= timeProvider.UtcNow())
        {
            return BookingErrors.EventStarted;
        }

        // A retry after a lost commit finds the booking cancelled and changes nothing: no verification needed.
        var result = await db.Database.CreateExecutionStrategy()
            .ExecuteAsync(booking, (_, b, ct) => TryCancelAsync(b, ct), null, cancellationToken);
        if (result is { Succeeded: true, Value.Cancelled: true })
        {
            metrics.Cancelled();
        }
        return result;
    }

    private async Task<Result<CancelOutcome>> TryCancelAsync(Booking booking, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // The event row's lock first, like every other write, while the event is on and has not started.
        var open = await db.Events.Where(e => e.Id == booking.EventId && e.Status == EventStatus.Scheduled && e.StartsAt > now)
            .ExecuteUpdateAsync(e => e.SetProperty(x => x.Version, x => x.Version + 1), ct);
        var cancelled = open == 0 ? [] : await BookingCancellation.CancelAsync(db, booking.EventId, b => b.Where(x => x.Id == booking.Id), now, ct);
        if (cancelled.Count == 0)
        {
            await transaction.RollbackAsync(ct);
            // Cancelled meanwhile (this try's own commit, lost; another cancel; its event's), or its event started.
            var current = await db.Bookings.AsNoTracking().Include(b => b.Event).SingleAsync(b => b.Id == booking.Id, ct);
            return current.StatusAsRead == BookingStatus.Confirmed ? BookingErrors.EventStarted : new CancelOutcome(false, 0);
        }

        // Still under the event row's lock: whoever waits gets the tickets before anyone else can book them.
        var offered = await offers.OfferFreedTicketsAsync(booking.EventId, now, cancelled.SelectMany(c => c.SeatIds).ToList(), ct);
        await transaction.CommitAsync(ct);
        return new CancelOutcome(true, offered);
    }
}
