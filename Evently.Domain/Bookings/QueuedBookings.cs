using System.Data;
using Evently.Domain.Analytics;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace Evently.Domain.Bookings;

/// <summary>The answers to a batch, and the requests that could not be answered as they are (acknowledged apart).</summary>
public sealed record QueuedAnswers(List<QueuedAnswer> Answers, List<QueuedRequest> Unanswerable);

/// <summary>
/// Answers a batch of queued requests of one event in one transaction, with the direct path's rules (capacity,
/// seats, event open) and its ledger: a request already answered (redelivered) is answered from the database, a
/// request whose Idempotency-Key the ledger knows is answered with that key's outcome, and neither books again.
/// A batch that fails for what one of its requests holds is answered one request at a time, so one bad entry
/// never stops its event.
/// </summary>
public sealed class QueuedBookings(
    EventlyDbContext db, TimeProvider timeProvider, IdempotencyLedger ledger, BookingMetrics metrics, ILogger<QueuedBookings> logger)
{
    public const string KeyReused = "idempotency-key-reused";
    public const string Unanswerable = "invalid-request";

    /// <summary>
    /// When the event's sale opens, as the database has it; null when nothing is left to wait for: on sale now, or the
    /// event cancelled (its pre-queue is then answered at once, rejected).
    /// </summary>
    public Task<DateTime?> OpeningAsync(long eventId, CancellationToken cancellationToken) =>
        db.Events.AsNoTracking().Where(e => e.Id == eventId && e.Status != EventStatus.Cancelled)
            .Select(e => e.SalesStartAt).SingleOrDefaultAsync(cancellationToken);

    public async Task<QueuedAnswers> AnswerAsync(long eventId, IReadOnlyList<QueuedRequest> requests, CancellationToken cancellationToken)
    {
        var unique = requests.DistinctBy(r => r.RequestId).ToList();
        try
        {
            return await AnswerOrRefuseAsync(eventId, unique, cancellationToken);
        }
        catch (Exception ex) when (IsAboutTheData(ex) && unique.Count > 1)
        {
            logger.LogWarning(ex, "A batch of {Count} requests of event {EventId} failed; answering them one at a time", unique.Count, eventId);
            var answers = new QueuedAnswers([], []);
            foreach (var request in unique)
            {
                var one = await AnswerAsync(eventId, [request], cancellationToken);
                answers.Answers.AddRange(one.Answers);
                answers.Unanswerable.AddRange(one.Unanswerable);
            }
            return answers;
        }
        catch (Exception ex) when (IsAboutTheData(ex))
        {
            logger.LogError(ex, "Request {RequestId} of event {EventId} cannot be answered; it is dropped", unique[0].RequestId, eventId);
            return new QueuedAnswers([], [unique[0]]);
        }
    }

    private async Task<QueuedAnswers> AnswerOrRefuseAsync(long eventId, List<QueuedRequest> requests, CancellationToken ct)
    {
        // A key recorded, or a request answered, by another writer meanwhile (a direct booking with the same key, a
        // worker whose lease lapsed) fails the insert: the next try reads it and answers from it.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var answers = await db.Database.CreateExecutionStrategy().ExecuteAsync(
                    (eventId, requests), (_, batch, token) => TryAnswerAsync(batch.eventId, batch.requests, token), null, ct);
                foreach (var answer in answers.Answers)
                {
                    if (answer.Status == BookingRequestStatus.Confirmed)
                    {
                        metrics.Made(answer.Request.Quantity);
                    }
                    else
                    {
                        metrics.Refused(answer.Reason!);
                    }
                }
                return answers;
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry && attempt < 3)
            {
                logger.LogDebug(ex, "Answers of event {EventId} met a concurrent writer; reading again", eventId);
            }
        }
    }

    // Failures that lie in what the requests hold (a duplicate that does not go away, a foreign key, a value too long or
    // out of range, a CHECK constraint), named one by one: anything else (a statement past its time limit, a server
    // that is read-only, full or shutting down, a connection killed) is the database's, and the worker's loop tries the
    // batch again with backoff rather than drop a request it could answer later.
    private static bool IsAboutTheData(Exception exception) => exception switch
    {
        MySqlException ex => ex.ErrorCode is MySqlErrorCode.DuplicateKeyEntry or MySqlErrorCode.NoReferencedRow2 or MySqlErrorCode.RowIsReferenced2
            or MySqlErrorCode.ColumnCannotBeNull or MySqlErrorCode.DataTooLong or MySqlErrorCode.WarningDataOutOfRange
            or MySqlErrorCode.WarningDataTruncated or MySqlErrorCode.TruncatedWrongValue or MySqlErrorCode.TruncatedWrongValueForField
            || ex.IsCheckViolation(),
        DbUpdateException { InnerException: { } inner } => IsAboutTheData(inner),
        _ => false
    };

    private async Task<QueuedAnswers> TryAnswerAsync(long eventId, IReadOnlyList<QueuedRequest> requests, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        var evt = await db.Events.FromSql($"SELECT * FROM events WHERE Id = {eventId} FOR UPDATE").AsNoTracking().SingleOrDefaultAsync(ct);
        var ids = requests.Select(r => r.RequestId).ToList();
        var answeredBefore = await db.BookingRequests.AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
        var fresh = requests.Where(r => !answeredBefore.ContainsKey(r.RequestId)).ToList();
        var keys = await ledger.FindAsync(fresh.Where(r => r.IdempotencyKey is not null).Select(r => (r.UserId, r.IdempotencyKey!)).ToList(), ct);
        var decision = new QueueDecision(evt, await SeatsAsync(fresh, ct), keys, await FirstRequestsAsync(keys, ct), now);

        var result = new QueuedAnswers([], []);
        foreach (var request in requests)
        {
            if (answeredBefore.TryGetValue(request.RequestId, out var before))
            {
                // A redelivery, unless Redis lost its data and handed the id out again: never give one user another's answer.
                if (before.UserId == request.UserId)
                {
                    result.Answers.Add(new QueuedAnswer(request, before.Status, before.BookingId, before.Reason));
                }
                else
                {
                    logger.LogError("Request id {RequestId} of event {EventId} was answered for another user; the new request is dropped",
                        request.RequestId, eventId);
                    result.Unanswerable.Add(request);
                }
                continue;
            }
            result.Answers.Add(decision.Decide(request));
        }

        var bookingIds = decision.Confirmed.Count == 0 ? [] : await WriteBookingsAsync(eventId, decision.Confirmed, now, ct);
        for (var i = 0; i < result.Answers.Count; i++)
        {
            if (decision.BookingOf(result.Answers[i], bookingIds) is { } bookingId)
            {
                result.Answers[i] = result.Answers[i] with { BookingId = bookingId };
            }
        }
        var answers = result.Answers.Where(a => !answeredBefore.ContainsKey(a.Request.RequestId)).ToList();
        if (answers.Count > 0)
        {
            await QueuedAnswerRows.WriteAsync(db, eventId, evt?.Name ?? "the event", answers, decision, now, ct);
        }
        await transaction.CommitAsync(ct);
        return result;
    }

    private async Task<Dictionary<long, Seat>> SeatsAsync(List<QueuedRequest> requests, CancellationToken ct)
    {
        var seatIds = requests.SelectMany(r => r.SeatIds ?? []).Distinct().ToList();
        return seatIds.Count == 0 ? [] : await db.Seats.AsNoTracking().Where(s => seatIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
    }

    // The answers of the requests that recorded the keys this batch meets again.
    private async Task<Dictionary<long, BookingRequest>> FirstRequestsAsync(
        Dictionary<(long UserId, string Key), IdempotencyRecord> keys, CancellationToken ct)
    {
        var ids = keys.Values.Where(r => r.Outcome == IdempotentOutcome.BookingRequest).Select(r => r.OutcomeId).ToList();
        return ids.Count == 0 ? [] : await db.BookingRequests.AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
    }

    // One conditional update of the event row for the whole batch; the lock taken above means it cannot fail.
    private async Task<Dictionary<long, long>> WriteBookingsAsync(long eventId, List<QueuedAnswer> confirmed, DateTime now, CancellationToken ct)
    {
        var tickets = confirmed.Sum(a => a.Request.Quantity);
        var taken = await db.Database.ExecuteSqlRawAsync(Capacity.TakeForBookingsSql,
            [new MySqlParameter("@eventId", eventId), new MySqlParameter("@tickets", tickets), new MySqlParameter("@count", confirmed.Count),
                new MySqlParameter("@now", now)], ct);
        if (taken != 1)
        {
            throw new InvalidOperationException($"Event {eventId} could not take {tickets} tickets under its own lock.");
        }
        var seatIds = confirmed.SelectMany(a => a.Request.SeatIds ?? []).ToList();
        if (seatIds.Count > 0 && !await SeatWrites.TryTakeAsync(db, eventId, seatIds, ct))
        {
            throw new InvalidOperationException($"Seats of event {eventId} changed under its own lock.");
        }
        var bookingIds = await QueuedAnswerRows.WriteBookingsAsync(db, eventId, confirmed, now, ct);
        await db.Database.RecordAsync(eventId, confirmed.Select(a => RollupChange.Booked(now, a.Request.Quantity)), ct);
        return bookingIds;
    }

    /// <summary>The booking of a queued request carries a token made from the request id: unique, and the same on a retry.</summary>
    public static Guid AttemptId(long requestId)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, requestId);
        "queued!!"u8.CopyTo(bytes[8..]);
        return new Guid(bytes);
    }
}
