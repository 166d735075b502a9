using System.Data;
using Evently.Domain.Common;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Events;

/// <summary>
/// Cancels an event at once: it is off sale and out of the public list from the commit on (a booking racing with it
/// waits for the row's lock, then finds it cancelled), and an outbox row hands the rest to the worker, which cancels
/// its bookings, closes its line and notifies everyone once, in batches (<see cref="EventCascades"/>): an event of
/// any size is cancelled within a request's deadline. Cancelling a cancelled event changes nothing.
/// </summary>
public sealed class CancelEvent(EventlyDbContext db, TimeProvider timeProvider)
{
    /// <returns>Whether this call cancelled it (false: it was cancelled before).</returns>
    public Task<Result<bool>> HandleAsync(long id, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(id, async (_, eventId, ct) =>
        {
            db.ChangeTracker.Clear();
            var now = timeProvider.UtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            var cancelled = await db.Events.Where(e => e.Id == eventId && e.Status == EventStatus.Scheduled)
                .ExecuteUpdateAsync(e => e
                    .SetProperty(x => x.Status, EventStatus.Cancelled)
                    .SetProperty(x => x.Version, x => x.Version + 1)
                    .SetProperty(x => x.UpdatedAt, now), ct);
            if (cancelled == 0)
            {
                return await db.Events.AnyAsync(e => e.Id == eventId, ct) ? false : (Result<bool>)EventErrors.NotFound;
            }
            db.OutboxMessages.Add(new OutboxMessage { Kind = OutboxKinds.EventCancelled, EventId = eventId, CreatedAt = now });
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return true;
        }, null, cancellationToken);
}
