using Evently.Domain.Common;
using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>
/// Answers a repeated Idempotency-Key from the ledger, on every path that books: the booking it made, or the
/// request it queued; a key first used for something else is refused (422).
/// </summary>
public sealed class BookingReplay(IdempotencyLedger ledger, BookingReads reads, EventlyDbContext db)
{
    /// <returns>The key's first outcome, an error if the key was used for another request, or null for a new key.</returns>
    public async Task<Result<BookingOutcome>?> FindAsync(long userId, string? key, string fingerprint, CancellationToken cancellationToken)
    {
        if (key is null || await ledger.FindAsync(userId, key, cancellationToken) is not { } record)
        {
            return null;
        }
        if (record.Fingerprint != fingerprint)
        {
            return BookingErrors.IdempotencyKeyReused;
        }
        return record.Outcome switch
        {
            IdempotentOutcome.Booking => BookingOutcome.Booked(await reads.SingleAsync(record.OutcomeId, cancellationToken)),
            IdempotentOutcome.BookingRequest => BookingOutcome.Queued(QueuedRequestState.From(
                await db.BookingRequests.AsNoTracking().SingleAsync(r => r.Id == record.OutcomeId, cancellationToken))),
            _ => BookingErrors.IdempotencyKeyReused
        };
    }
}
