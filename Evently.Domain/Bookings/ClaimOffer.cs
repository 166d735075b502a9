using System.Data;
using Evently.Domain.Analytics;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Evently.Domain.Bookings;

/// <summary>
/// Claims a waitlist offer: the tickets (and seats) it holds become a confirmed booking, in one transaction. A
/// repeated claim answers with the booking the first one made; so does a repeated Idempotency-Key.
/// </summary>
public sealed class ClaimOffer(
    EventlyDbContext db, TimeProvider timeProvider, BookingReads reads, BookingReplay replay, IdempotencyLedger ledger,
    BookingMetrics metrics, WaitlistMetrics waitlistMetrics)
{
    public async Task<Result<Booking>> HandleAsync(long entryId, long userId, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var entry = await db.WaitlistEntries.AsNoTracking().SingleOrDefaultAsync(w => w.Id == entryId && w.UserId == userId, cancellationToken);
        if (entry is null)
        {
            return WaitlistErrors.NotFound;
        }
        var command = new BookingCommand(userId, entry.EventId, entry.Quantity, null, idempotencyKey);
        if (BookingRules.Validate(command) is { } invalid)
        {
            return invalid;
        }
        var fingerprint = Fingerprint(entryId);
        if (await replay.FindAsync(userId, idempotencyKey, fingerprint, cancellationToken) is { } repeat)
        {
            return repeat.Succeeded && repeat.Value!.Booking is { } booked ? booked : repeat.Error ?? BookingErrors.IdempotencyKeyReused;
        }
        if (entry is { Status: WaitlistStatus.Booked, BookingId: { } made })
        {
            return await reads.SingleAsync(made, cancellationToken);
        }

        var attempt = new Attempt(entry, idempotencyKey, fingerprint);
        var result = await db.Database.CreateExecutionStrategy().ExecuteAsync(attempt, TryClaimAsync, VerifyClaimedAsync, cancellationToken);
        if (!result.Succeeded)
        {
            metrics.Refused(result.Error!.Code);
            return result.Error!;
        }
        metrics.Made(entry.Quantity);
        return await reads.SingleAsync(result.Value!.Id, cancellationToken);
    }

    private static string Fingerprint(long entryId) => $"waitlist:{entryId}";

    private sealed record Attempt(WaitlistEntry Entry, string? Key, string Fingerprint)
    {
        public Guid Token { get; } = Guid.NewGuid();
    }

    private async Task<ExecutionResult<Result<Booking>>> VerifyClaimedAsync(DbContext _, Attempt attempt, CancellationToken ct) =>
        await reads.FindWrittenAsync(attempt.Token, ct) is { } written
            ? new ExecutionResult<Result<Booking>>(true, written)
            : new ExecutionResult<Result<Booking>>(false, default);

    private async Task<Result<Booking>> TryClaimAsync(DbContext _, Attempt attempt, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var entry = attempt.Entry;
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // The event row's lock first, as every write; then the entry, still offered and in time: of a claim
        // and the worker's expiry (or two claims) exactly one changes it.
        var open = await db.Events.Where(e => e.Id == entry.EventId && e.Status == EventStatus.Scheduled && e.StartsAt > now)
            .ExecuteUpdateAsync(e => e.SetProperty(x => x.Version, x => x.Version + 1), ct);
        if (open == 0)
        {
            await transaction.RollbackAsync(ct);
            return await reads.WhyNotBookableAsync(entry.EventId, now, ct);
        }
        var claimed = await db.WaitlistEntries
            .Where(w => w.Id == entry.Id && w.Status == WaitlistStatus.Offered && w.OfferExpiresAt > now)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.Status, WaitlistStatus.Booked).SetProperty(x => x.Active, (bool?)null), ct);
        if (claimed == 0)
        {
            await transaction.RollbackAsync(ct);
            var current = await db.WaitlistEntries.AsNoTracking().SingleAsync(w => w.Id == entry.Id, ct);
            return current switch
            {
                { Status: WaitlistStatus.Booked, BookingId: { } made } => await reads.SingleAsync(made, ct),
                { Status: WaitlistStatus.Expired } or { Status: WaitlistStatus.Offered } => WaitlistErrors.OfferExpired,
                _ => WaitlistErrors.NoOffer
            };
        }

        // The held tickets become booked ones: Held never drops below 0 (CHECK), Booked + Held is unchanged.
        var held = await db.WaitlistEntries.Where(w => w.Id == entry.Id).Select(w => w.HeldSeatIds).SingleAsync(ct);
        var seatIds = new WaitlistEntry { HeldSeatIds = held }.HeldSeats();
        await db.Events.Where(e => e.Id == entry.EventId).ExecuteUpdateAsync(e => e
            .SetProperty(x => x.Held, x => x.Held - entry.Quantity)
            .SetProperty(x => x.Booked, x => x.Booked + entry.Quantity)
            .SetProperty(x => x.BookingsMade, x => x.BookingsMade + 1), ct);
        if (seatIds.Count > 0)
        {
            await db.Seats.Where(s => seatIds.Contains(s.Id) && s.Status == SeatStatus.Held)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Booked), ct);
        }

        var booking = new Booking
        {
            EventId = entry.EventId,
            UserId = entry.UserId,
            Quantity = entry.Quantity,
            CreatedAt = now,
            AttemptId = attempt.Token,
            Seats = seatIds.Select(id => new BookingSeat { SeatId = id, Active = true }).ToList()
        };
        db.Bookings.Add(booking);
        await db.SaveChangesAsync(ct);
        if (!await ledger.TryRecordAsync(entry.UserId, attempt.Key, attempt.Fingerprint, IdempotentOutcome.Booking, booking.Id, now, ct))
        {
            // The Idempotency-Key was taken meanwhile by another request of this user.
            await transaction.RollbackAsync(ct);
            return BookingErrors.IdempotencyKeyReused;
        }
        await db.WaitlistEntries.Where(w => w.Id == entry.Id)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.BookingId, booking.Id).SetProperty(x => x.HeldSeatIds, (string?)null), ct);
        await db.Database.RecordAsync(entry.EventId, [RollupChange.Booked(now, entry.Quantity)], ct);
        await transaction.CommitAsync(ct);
        waitlistMetrics.Claimed();
        return booking;
    }
}
