using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>
/// Takes a booking of a high-demand event into its queue (202): checked against the event's cached facts, its
/// seats included, with no write to the database. A request with an Idempotency-Key reads the ledger first (one
/// primary-key lookup), so a key that already booked or queued answers the same on this path as on the direct
/// one, whatever Redis remembers; a key still in flight is recognised by the queue itself. Both come before the
/// event's checks: a repeated key gets its first answer even after the event was cancelled or has started.
/// </summary>
public sealed class QueueIntake(BookingQueue queue, BookingReplay replay, EventlyDbContext db, TimeProvider timeProvider)
{
    public async Task<Result<BookingOutcome>> HandleAsync(BookingCommand command, EventFacts facts, CancellationToken cancellationToken)
    {
        if (BookingRules.Validate(command) is { } invalid)
        {
            return invalid;
        }
        var fingerprint = BookingRules.Fingerprint(command);
        if (await replay.FindAsync(command.UserId, command.IdempotencyKey, fingerprint, cancellationToken) is { } repeat)
        {
            return repeat;
        }
        if (BookingRules.CheckEvent(facts, command, timeProvider.UtcNow()) is { } refused)
        {
            return await KeyInFlightAsync(command, fingerprint) ?? refused;
        }

        var (outcome, requestId, position) = await queue.EnqueueAsync(
            command, fingerprint, () => HighestAnsweredAsync(command.EventId, cancellationToken), facts.SalesStartAt);
        return outcome switch
        {
            EnqueueOutcome.KeyReused => BookingErrors.IdempotencyKeyReused,
            EnqueueOutcome.TooManyQueued => BookingErrors.TooManyQueued,
            EnqueueOutcome.Replayed => await ReplayedAsync(command, requestId),
            _ => BookingOutcome.Queued(new QueuedRequestState(requestId, command.EventId, command.UserId, BookingRules.Tickets(command),
                BookingRequestStatus.Queued, position, null, null, OpensAt: position is null ? facts.SalesStartAt : null))
        };
    }

    // A key still queued when the event changed answers as the intake script would answer it; while Redis cannot say, the
    // event's refusal stands (the queued request is answered by the worker all the same).
    private async Task<Result<BookingOutcome>?> KeyInFlightAsync(BookingCommand command, string fingerprint)
    {
        try
        {
            return await queue.FindKeyInFlightAsync(command, fingerprint) switch
            {
                { SameRequest: true } inFlight => await ReplayedAsync(command, inFlight.RequestId),
                { SameRequest: false } => BookingErrors.IdempotencyKeyReused,
                null => null
            };
        }
        catch (Exception ex) when (RedisConnection.IsOutage(ex))
        {
            return null;
        }
    }

    // The first request of a repeated key (or of an account before the opening), as Redis knows it now.
    private async Task<BookingOutcome> ReplayedAsync(BookingCommand command, long requestId) =>
        BookingOutcome.Queued(await queue.GetAsync(requestId)
            ?? new QueuedRequestState(requestId, command.EventId, command.UserId, BookingRules.Tickets(command), BookingRequestStatus.Queued, null, null, null));

    // The highest request id of the event that the database answered: new ids start above it.
    private async Task<long?> HighestAnsweredAsync(long eventId, CancellationToken ct)
    {
        var first = QueueKeys.FirstRequestId(eventId);
        var next = QueueKeys.FirstRequestId(eventId + 1);
        return await db.BookingRequests.Where(r => r.Id >= first && r.Id < next).MaxAsync(r => (long?)r.Id, ct);
    }
}
