using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>
/// The rows a batch of queued answers writes, each kind as one multi-row insert: answering the rest of a sold-out
/// queue costs no write per request.
/// </summary>
internal static class QueuedAnswerRows
{
    /// <summary>The bookings of the confirmed requests and their seats; the booking id of each request.</summary>
    public static async Task<Dictionary<long, long>> WriteBookingsAsync(
        EventlyDbContext db, long eventId, List<QueuedAnswer> confirmed, DateTime now, CancellationToken ct)
    {
        await InsertAsync(db, "INSERT INTO bookings (EventId, UserId, Quantity, Status, CreatedAt, AttemptId)",
            confirmed.Select(a => new object?[] { eventId, a.Request.UserId, a.Request.Quantity, "Confirmed", now, QueuedBookings.AttemptId(a.Request.RequestId) }), ct);
        var attempts = confirmed.Select(a => (Guid?)QueuedBookings.AttemptId(a.Request.RequestId)).ToList();
        var made = await db.Bookings.AsNoTracking().Where(b => attempts.Contains(b.AttemptId))
            .Select(b => new { b.Id, b.AttemptId }).ToDictionaryAsync(b => b.AttemptId!.Value, b => b.Id, ct);
        var bookingIds = confirmed.ToDictionary(a => a.Request.RequestId, a => made[QueuedBookings.AttemptId(a.Request.RequestId)]);

        var seatRows = confirmed.SelectMany(a => (a.Request.SeatIds ?? []).Select(seat => new object?[] { bookingIds[a.Request.RequestId], seat, true })).ToList();
        if (seatRows.Count > 0)
        {
            await InsertAsync(db, "INSERT INTO booking_seats (BookingId, SeatId, Active)", seatRows, ct);
        }
        return bookingIds;
    }

    /// <summary>
    /// The answers (their ids are the request ids), the keys first used here, and the notifications of new decisions: one
    /// round trip for the three inserts.
    /// </summary>
    public static async Task WriteAsync(
        EventlyDbContext db, long eventId, string eventName, List<QueuedAnswer> answers, QueueDecision decision, DateTime now, CancellationToken ct)
    {
        var inserts = new SqlBatch().AddInsert(
            "INSERT INTO booking_requests (Id, EventId, UserId, Quantity, SeatIds, Status, BookingId, Reason, CreatedAt, ProcessedAt)",
            answers.Select(a => new object?[]
            {
                a.Request.RequestId, eventId, a.Request.UserId, a.Request.Quantity,
                a.Request.SeatIds is { } seats ? string.Join(',', seats) : null, a.Status.ToString(), a.BookingId, a.Reason, a.Request.QueuedAt, now
            }));

        var keyed = answers.Where(decision.RecordsKey).ToList();
        if (keyed.Count > 0)
        {
            inserts.AddInsert(IdempotencyLedger.InsertColumns, keyed.Select(a => new object?[]
            {
                a.Request.UserId, a.Request.IdempotencyKey, BookingRules.Fingerprint(a.Request.Command),
                nameof(IdempotentOutcome.BookingRequest), a.Request.RequestId, now
            }));
        }

        var decided = answers.Where(a => !decision.IsRepeat(a)).ToList();
        if (decided.Count > 0)
        {
            inserts.AddInsert("INSERT INTO notifications (UserId, Kind, EventId, Message, CreatedAt, EmailAttempts, TraceParent)",
                decided.Select(a => new object?[]
                {
                    a.Request.UserId,
                    a.Status == BookingRequestStatus.Confirmed ? NotificationKinds.BookingConfirmed : NotificationKinds.BookingRejected,
                    eventId,
                    a.Status == BookingRequestStatus.Confirmed
                        ? $"Your request {a.Request.RequestId} for {a.Request.Quantity} ticket(s) to {eventName} is confirmed: booking {a.BookingId}."
                        : $"Your request {a.Request.RequestId} for {a.Request.Quantity} ticket(s) to {eventName} could not be confirmed ({a.Reason}).",
                    now, 0, a.Request.TraceParent
                }));
        }
        await inserts.ExecuteAsync(db, ct);
    }

    private static Task InsertAsync(EventlyDbContext db, string insertInto, IEnumerable<object?[]> rows, CancellationToken ct) =>
        new SqlBatch().AddInsert(insertInto, rows).ExecuteAsync(db, ct);
}
