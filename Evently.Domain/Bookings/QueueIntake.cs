using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>
/// Takes a booking of a high-demand event into its queue (202): checked against the event's cached facts, its
/// seats included, with no write to the database. A request with an Idempotency-Key reads the ledger first (one
/// primary-key lookup), so a key that already booked or queued answers the same on this path as on the direct
/// one, whatever Redis remembers; a key still in flight is recognised by the queue itself.
/// </summary>
public sealed class QueueIntake(BookingQueue queue, BookingReplay replay, EventlyDbContext db, TimeProvider timeProvider)
{
    public async Task<Result<BookingOutcome>> HandleAsync(BookingCommand command, EventFacts facts, CancellationToken cancellationToken)
    {
        if ((BookingRules.Validate(command) ?? BookingRules.CheckEvent(facts, command, timeProvider.UtcNow())) is { } refused)
        {
            return refused;
        }
        var fingerprint = BookingRules.Fingerprint(command);
        if (await replay.FindAsync(command.UserId, command.IdempotencyKey, fingerprint, cancellationToken) is { } repeat)
        {
            return repeat;
        }

        var (outcome, requestId, position) = await queue.EnqueueAsync(
            command, fingerprint, () => HighestAnsweredAsync(command.EventId, cancellationToken), facts.SalesStartAt);
        return outcome switch
        {
            EnqueueOutcome.KeyReused => BookingErrors.IdempotencyKeyReused,
            EnqueueOutcome.TooManyQueued => BookingErrors.TooManyQueued,
            EnqueueOutcome.Replayed => BookingOutcome.Queued(await queue.GetAsync(requestId)
                ?? new QueuedRequestState(requestId, command.EventId, command.UserId, BookingRules.Tickets(command), BookingRequestStatus.Queued, null, null, null)),
            _ => BookingOutcome.Queued(new QueuedRequestState(requestId, command.EventId, command.UserId, BookingRules.Tickets(command),
                BookingRequestStatus.Queued, position, null, null, OpensAt: position is null ? facts.SalesStartAt : null))
        };
    }

    // The highest request id of the event that the database answered: new ids start above it.
    private async Task<long?> HighestAnsweredAsync(long eventId, CancellationToken ct)
    {
        var first = QueueKeys.FirstRequestId(eventId);
        var next = QueueKeys.FirstRequestId(eventId + 1);
        return await db.BookingRequests.Where(r => r.Id >= first && r.Id < next).MaxAsync(r => (long?)r.Id, ct);
    }
}
