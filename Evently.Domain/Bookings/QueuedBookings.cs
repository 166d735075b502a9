using System.Data;
using System.Text;
using Evently.Domain.Analytics;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Evently.Domain.Bookings;

/// <summary>
/// Answers a batch of queued requests of one event in one transaction: one conditional update of the
/// event row for the whole batch, then multi-row inserts of the bookings, their seats, the answers and
/// the notifications. The rules are the direct path's (capacity, seats, event open); a request already
/// answered (redelivered after a crash) is answered from the database, never booked again.
/// </summary>
public sealed class QueuedBookings(EventlyDbContext db, TimeProvider timeProvider, BookingMetrics metrics)
{
    public async Task<List<QueuedAnswer>> AnswerAsync(long eventId, IReadOnlyList<QueuedRequest> requests, CancellationToken cancellationToken)
    {
        // A retry after a lost commit re-reads what was answered: the request ids are unique in the database.
        var answers = await db.Database.CreateExecutionStrategy().ExecuteAsync(
            (eventId, requests), (_, batch, ct) => TryAnswerAsync(batch.eventId, batch.requests, ct), null, cancellationToken);
        foreach (var answer in answers)
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

    private async Task<List<QueuedAnswer>> TryAnswerAsync(long eventId, IReadOnlyList<QueuedRequest> requests, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        var evt = await db.Events.FromSql($"SELECT * FROM events WHERE Id = {eventId} FOR UPDATE").AsNoTracking().SingleOrDefaultAsync(ct);
        var ids = requests.Select(r => r.RequestId).ToList();
        var answeredBefore = await db.BookingRequests.AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
        var seatIds = requests.Where(r => !answeredBefore.ContainsKey(r.RequestId)).SelectMany(r => r.SeatIds ?? []).Distinct().ToList();
        var seats = seatIds.Count == 0 ? [] : await db.Seats.AsNoTracking().Where(s => seatIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);

        var free = evt?.Available ?? 0;
        var seatsTaken = new HashSet<long>();
        var answers = new List<QueuedAnswer>();
        var fresh = new List<QueuedAnswer>();
        foreach (var request in requests.OrderBy(r => r.Sequence))
        {
            if (answeredBefore.TryGetValue(request.RequestId, out var before))
            {
                answers.Add(new QueuedAnswer(request, before.Status, before.BookingId, before.Reason));
                continue;
            }
            var reason = Refusal(evt, request, seats, seatsTaken, now)
                ?? (request.Quantity > free ? "sold-out" : SeatsFree(request, seats, seatsTaken) ? null : "seat-taken");
            var answer = new QueuedAnswer(request, reason is null ? BookingRequestStatus.Confirmed : BookingRequestStatus.Rejected, null, reason);
            if (reason is null)
            {
                free -= request.Quantity;
            }
            fresh.Add(answer);
        }

        var confirmed = fresh.Where(a => a.Status == BookingRequestStatus.Confirmed).ToList();
        var bookingIds = confirmed.Count == 0 ? [] : await WriteBookingsAsync(eventId, confirmed, now, ct);
        fresh = fresh.Select(a => a.Status == BookingRequestStatus.Confirmed ? a with { BookingId = bookingIds[a.Request.RequestId] } : a).ToList();
        if (fresh.Count > 0)
        {
            await WriteAnswersAsync(eventId, evt?.Name ?? "the event", fresh, now, ct);
        }
        await transaction.CommitAsync(ct);
        return answers.Concat(fresh).OrderBy(a => a.Request.Sequence).ToList();
    }

    // The direct path's rules (BookingRules.CheckEvent), in the words of the contract's rejection reasons.
    private static string? Refusal(Event? evt, QueuedRequest request, Dictionary<long, Seat> seats, HashSet<long> taken, DateTime now)
    {
        var command = new BookingCommand(request.UserId, request.EventId, request.Quantity, request.SeatIds, null);
        var chosen = (request.SeatIds ?? []).Where(seats.ContainsKey).Select(id => seats[id]).ToList();
        return BookingRules.CheckEvent(evt, command, chosen, now) switch
        {
            null => null,
            { Code: "event-started" } => "event-started",
            { Kind: ErrorKind.NotFound } => "event-cancelled",
            // Seats that do not belong to the event (or none on a seated one): no seat the request asked for can be had.
            _ => "seat-taken"
        };
    }

    // Seats still available and not taken by an earlier request of the same batch.
    private static bool SeatsFree(QueuedRequest request, Dictionary<long, Seat> seats, HashSet<long> taken) =>
        request.SeatIds is not { } wanted
        || (wanted.All(id => seats[id].Status == SeatStatus.Available && !taken.Contains(id)) && wanted.All(taken.Add));

    // One conditional update of the event row for the whole batch; the lock taken above means it cannot fail.
    private async Task<Dictionary<long, long>> WriteBookingsAsync(long eventId, List<QueuedAnswer> confirmed, DateTime now, CancellationToken ct)
    {
        var tickets = confirmed.Sum(a => a.Request.Quantity);
        var taken = await db.Events
            .Where(e => e.Id == eventId && e.Booked + e.Held + tickets <= e.Capacity)
            .ExecuteUpdateAsync(e => e
                .SetProperty(x => x.Booked, x => x.Booked + tickets)
                .SetProperty(x => x.BookingsMade, x => x.BookingsMade + confirmed.Count)
                .SetProperty(x => x.Version, x => x.Version + 1), ct);
        if (taken != 1)
        {
            throw new InvalidOperationException($"Event {eventId} could not take {tickets} tickets under its own lock.");
        }
        var seatIds = confirmed.SelectMany(a => a.Request.SeatIds ?? []).ToList();
        if (seatIds.Count > 0 && seatIds.Count != await db.Seats.Where(s => seatIds.Contains(s.Id) && s.Status == SeatStatus.Available)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Booked), ct))
        {
            throw new InvalidOperationException($"Seats of event {eventId} changed under its own lock.");
        }

        await InsertAsync("bookings", ["EventId", "UserId", "Quantity", "Status", "CreatedAt", "AttemptId"],
            confirmed.Select(a => new object?[] { eventId, a.Request.UserId, a.Request.Quantity, "Confirmed", now, AttemptId(a.Request.RequestId) }), ct);
        var attempts = confirmed.Select(a => (Guid?)AttemptId(a.Request.RequestId)).ToList();
        var made = await db.Bookings.AsNoTracking().Where(b => attempts.Contains(b.AttemptId))
            .Select(b => new { b.Id, b.AttemptId }).ToListAsync(ct);
        var byAttempt = made.ToDictionary(b => b.AttemptId!.Value, b => b.Id);
        var bookingIds = confirmed.ToDictionary(a => a.Request.RequestId, a => byAttempt[AttemptId(a.Request.RequestId)]);

        await db.Database.RecordAsync(eventId, confirmed.Select(a => RollupChange.Booked(now, a.Request.Quantity)), ct);

        var seatRows = confirmed.SelectMany(a => (a.Request.SeatIds ?? []).Select(seat => new object?[] { bookingIds[a.Request.RequestId], seat, true })).ToList();
        if (seatRows.Count > 0)
        {
            await InsertAsync("booking_seats", ["BookingId", "SeatId", "Active"], seatRows, ct);
        }
        return bookingIds;
    }

    // The answers and their notifications, as two multi-row inserts: rejecting the rest of a sold-out queue
    // costs no write per request.
    private async Task WriteAnswersAsync(long eventId, string eventName, List<QueuedAnswer> answers, DateTime now, CancellationToken ct)
    {
        await InsertAsync("booking_requests",
            ["Id", "EventId", "UserId", "Quantity", "SeatIds", "Status", "BookingId", "Reason", "IdempotencyKey", "CreatedAt", "ProcessedAt"],
            answers.Select(a => new object?[]
            {
                a.Request.RequestId, eventId, a.Request.UserId, a.Request.Quantity,
                a.Request.SeatIds is { } seats ? string.Join(',', seats) : null, a.Status.ToString(), a.BookingId, a.Reason,
                a.Request.IdempotencyKey, a.Request.QueuedAt, now
            }), ct);
        await InsertAsync("notifications", ["UserId", "Kind", "EventId", "Message", "CreatedAt", "EmailAttempts", "TraceParent"],
            answers.Select(a => new object?[]
            {
                a.Request.UserId,
                a.Status == BookingRequestStatus.Confirmed ? NotificationKinds.BookingConfirmed : NotificationKinds.BookingRejected,
                eventId,
                a.Status == BookingRequestStatus.Confirmed
                    ? $"Your request {a.Request.RequestId} for {a.Request.Quantity} ticket(s) to {eventName} is confirmed: booking {a.BookingId}."
                    : $"Your request {a.Request.RequestId} for {a.Request.Quantity} ticket(s) to {eventName} could not be confirmed ({a.Reason}).",
                now, 0, a.Request.TraceParent
            }), ct);
    }

    private Task InsertAsync(string table, string[] columns, IEnumerable<object?[]> rows, CancellationToken ct)
    {
        var sql = new StringBuilder($"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ");
        var parameters = new List<object>();
        foreach (var row in rows)
        {
            sql.Append(parameters.Count == 0 ? "(" : ", (");
            sql.Append(string.Join(", ", row.Select((value, i) =>
            {
                var name = $"@p{parameters.Count}";
                parameters.Add(new MySqlParameter(name, value ?? DBNull.Value));
                return name;
            })));
            sql.Append(')');
        }
        return db.Database.ExecuteSqlRawAsync(sql.ToString(), parameters, ct);
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
