using System.Data;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>A seat change's booking as it now is, and the offers the seats it gave back made to the waitlist.</summary>
public readonly record struct SeatChange(Booking Booking, int Offers);

/// <summary>
/// Picks or changes the seats of a confirmed booking on a seated event: the new seats are taken with the same
/// conditional write as a booking's, the old ones released, all or nothing.
/// </summary>
public sealed class ChangeSeats(EventlyDbContext db, TimeProvider timeProvider, BookingReads reads, WaitlistOffers offers, BookingMetrics metrics)
{
    public async Task<Result<SeatChange>> HandleAsync(long bookingId, long callerId, IReadOnlyList<long>? seatIds, CancellationToken cancellationToken)
    {
        var booking = await db.Bookings.AsNoTracking().Include(b => b.Event)
            .SingleOrDefaultAsync(b => b.Id == bookingId && b.UserId == callerId, cancellationToken);
        if (booking is null)
        {
            return BookingErrors.NotFound;
        }
        if (booking.StatusAsRead != BookingStatus.Confirmed)
        {
            return BookingErrors.NotConfirmed;
        }
        if (seatIds is null || seatIds.Count != booking.Quantity || seatIds.Distinct().Count() != seatIds.Count)
        {
            return BookingErrors.InvalidSeats($"Choose exactly {booking.Quantity} different seats, one per ticket of the booking.");
        }

        var seats = await db.Seats.AsNoTracking().Where(s => seatIds.Contains(s.Id)).ToListAsync(cancellationToken);
        var command = new BookingCommand(callerId, booking.EventId, null, seatIds, null);
        if (BookingRules.CheckEvent(EventFacts.Of(booking.Event!, seats), command, timeProvider.UtcNow()) is { } refused)
        {
            return refused;
        }

        // A retry after a lost commit finds the seats already held by this booking: nothing left to take.
        var result = await db.Database.CreateExecutionStrategy()
            .ExecuteAsync(booking, (_, b, ct) => TrySwapSeatsAsync(b, seatIds, ct), null, cancellationToken);
        if (!result.Succeeded)
        {
            metrics.Refused(result.Error!.Code);
            return result.Error!;
        }
        return new SeatChange(await reads.SingleAsync(bookingId, cancellationToken), result.Value);
    }

    private async Task<Result<int>> TrySwapSeatsAsync(Booking booking, IReadOnlyList<long> wanted, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // Lock the event row, as bookings and cancels do, so that the reads below are current; the
        // version bump also tells a concurrent layout change that seats moved.
        var now = timeProvider.UtcNow();
        var open = await db.Events.Where(e => e.Id == booking.EventId && e.Status == EventStatus.Scheduled && e.StartsAt > now)
            .ExecuteUpdateAsync(e => e.SetProperty(x => x.Version, x => x.Version + 1), ct);
        var status = await db.Bookings.Where(b => b.Id == booking.Id).Select(b => b.Status).SingleAsync(ct);
        if (open == 0 || status != BookingStatus.Confirmed)
        {
            await transaction.RollbackAsync(ct);
            return open == 0 ? await reads.WhyNotBookableAsync(booking.EventId, now, ct) : BookingErrors.NotConfirmed;
        }

        var held = await db.BookingSeats.Where(s => s.BookingId == booking.Id && s.Active == true)
            .Select(s => s.SeatId).ToListAsync(ct);
        var toTake = wanted.Except(held).ToList();
        var toRelease = held.Except(wanted).ToList();

        if (!await SeatWrites.TryTakeAsync(db, booking.EventId, toTake, ct))
        {
            await transaction.RollbackAsync(ct);
            return BookingErrors.SeatTaken;
        }
        await SeatWrites.ReleaseAsync(db, toRelease, ct);
        // Seats given back are no part of the booking any more; a cancel, by contrast, keeps them as history.
        await db.BookingSeats.Where(s => s.BookingId == booking.Id && (toRelease.Contains(s.SeatId) || toTake.Contains(s.SeatId)))
            .ExecuteDeleteAsync(ct);
        db.BookingSeats.AddRange(toTake.Select(id => new BookingSeat { BookingId = booking.Id, SeatId = id, Active = true }));

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            await transaction.RollbackAsync(ct);
            return BookingErrors.SeatTaken;
        }
        // The seats given back go to the line first, like any that come back (a swap frees no ticket, so only an
        // entry that fitted before can fit now; the step is the same as after a cancel).
        var offered = await offers.OfferFreedTicketsAsync(booking.EventId, now, toRelease, ct);
        await transaction.CommitAsync(ct);
        return offered;
    }
}
