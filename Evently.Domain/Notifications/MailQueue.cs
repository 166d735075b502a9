using System.Data;
using System.Text.Json;
using Evently.Domain.Common;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Notifications;

/// <summary>
/// An e-mail that is due, with what it needs: one notification, or a buyer's answers from one on-sale
/// (<see cref="MailQueue"/>), in id order. The first notification names the mail.
/// </summary>
public sealed record PendingMail(
    IReadOnlyList<long> NotificationIds, string To, string Name, string Kind, IReadOnlyList<string> Messages, string? TraceParent, int Attempts)
{
    public long NotificationId => NotificationIds[0];
}

/// <summary>
/// The e-mails of notifications, as a queue in the notifications table: a sender takes due rows (moving
/// their next attempt forward, a lease, so that no other sender takes them), sends, then marks each one
/// sent, refused (retried with backoff, given up after <see cref="MaxAttempts"/>) or deferred (the mail
/// server is unreachable: no attempt is counted, it waits for the server to return).
/// A buyer's answers from one on-sale (the queued requests' confirmations and rejections for one event) go out as one
/// mail once the event's line is done: a buyer who sent ten requests gets one mail that lists the ten answers.
/// </summary>
public sealed class MailQueue(EventlyDbContext db, TimeProvider timeProvider)
{
    public const int MaxAttempts = 5;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The longest a queue answer's mail waits for its event's line to empty (<see cref="TakeDueAsync"/>): a line that
    /// never empties, such as a busy event's steady trickle of requests, delays its mails, never stops them.
    /// </summary>
    public static readonly TimeSpan LongestAnswerHold = TimeSpan.FromMinutes(2);

    /// <summary>Takes up to <paramref name="max"/> mails that are due, with a lease.</summary>
    /// <param name="eventsInLine">
    /// Events that still have requests in their queue: their answers' mails wait (up to <see cref="LongestAnswerHold"/>),
    /// so that each buyer's answers go out in one mail once the line is done, however long the on-sale lasts.
    /// </param>
    public Task<List<PendingMail>> TakeDueAsync(int max, IReadOnlyCollection<long> eventsInLine, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(max, async (_, take, ct) =>
        {
            db.ChangeTracker.Clear();
            var now = timeProvider.UtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            // One statement whatever the events: a new text per list would be a new query for EF to compile and cache.
            var line = JsonSerializer.Serialize(eventsInLine);
            var due = await db.Notifications.FromSql($"""
                SELECT * FROM notifications
                WHERE EmailedAt IS NULL AND EmailFailedAt IS NULL AND (NextEmailAttemptAt IS NULL OR NextEmailAttemptAt <= {now})
                  AND NOT (Kind IN ({NotificationKinds.BookingConfirmed}, {NotificationKinds.BookingRejected}) AND EventId IS NOT NULL
                           AND CreatedAt > {now - LongestAnswerHold} AND JSON_CONTAINS({line}, CAST(EventId AS CHAR)))
                ORDER BY Id LIMIT {take} FOR UPDATE SKIP LOCKED
                """).ToListAsync(ct);
            due.AddRange(await RestOfTheirAnswersAsync(due, now, ct));
            due.ForEach(n => n.NextEmailAttemptAt = now + Lease);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);

            var ids = due.Select(n => n.UserId).Distinct().ToList();
            var users = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
            return due.OrderBy(n => n.Id).GroupBy(MailOf).Select(mail =>
            {
                var first = mail.First();
                var user = users[first.UserId];
                var kind = mail.Skip(1).Any() && mail.Any(n => n.Kind == NotificationKinds.BookingConfirmed) ? NotificationKinds.BookingConfirmed : first.Kind;
                return new PendingMail(mail.Select(n => n.Id).ToList(), user.Email, user.Name, kind, mail.Select(n => n.Message).ToList(),
                    first.TraceParent, mail.Max(n => n.EmailAttempts));
            }).ToList();
        }, null, cancellationToken);

    private static bool IsQueueAnswer(Notification n) =>
        n.EventId is not null && n.Kind is NotificationKinds.BookingConfirmed or NotificationKinds.BookingRejected;

    // A queue answer's mail is its buyer's mail for that event; any other notification is a mail of its own.
    private static (long UserId, long? EventId, long Id) MailOf(Notification n) =>
        IsQueueAnswer(n) ? (n.UserId, n.EventId, 0) : (n.UserId, null, n.Id);

    /// <summary>
    /// The due answers of the same buyers and events that this take's limit left out, so that none of them becomes a
    /// mail of its own in the next take.
    /// </summary>
    private async Task<List<Notification>> RestOfTheirAnswersAsync(List<Notification> taken, DateTime now, CancellationToken ct)
    {
        var buyers = taken.Where(IsQueueAnswer).Select(n => (n.UserId, n.EventId)).ToHashSet();
        if (buyers.Count == 0)
        {
            return [];
        }
        var takenIds = taken.Select(n => n.Id).ToHashSet();
        var buyerIds = JsonSerializer.Serialize(buyers.Select(b => b.UserId).Distinct());
        var rest = await db.Notifications.FromSql($"""
            SELECT * FROM notifications
            WHERE UserId IN (SELECT Id FROM JSON_TABLE({buyerIds}, '$[*]' COLUMNS (Id BIGINT PATH '$')) AS buyer)
              AND Kind IN ({NotificationKinds.BookingConfirmed}, {NotificationKinds.BookingRejected})
              AND EmailedAt IS NULL AND EmailFailedAt IS NULL AND (NextEmailAttemptAt IS NULL OR NextEmailAttemptAt <= {now})
            FOR UPDATE SKIP LOCKED
            """).ToListAsync(ct);
        return rest.Where(n => !takenIds.Contains(n.Id) && buyers.Contains((n.UserId, n.EventId))).ToList();
    }

    public Task MarkSentAsync(long notificationId, CancellationToken ct) => MarkSentAsync([notificationId], ct);

    public Task MarkSentAsync(IReadOnlyCollection<long> notificationIds, CancellationToken ct) =>
        db.Notifications.Where(n => notificationIds.Contains(n.Id))
            .ExecuteUpdateAsync(n => n.SetProperty(x => x.EmailedAt, timeProvider.UtcNow()), ct);

    /// <returns>Whether the mail has now failed for good.</returns>
    public async Task<bool> MarkRefusedAsync(PendingMail mail, CancellationToken ct)
    {
        var now = timeProvider.UtcNow();
        var attempts = mail.Attempts + 1;
        var failed = attempts >= MaxAttempts;
        var ids = mail.NotificationIds;
        await db.Notifications.Where(n => ids.Contains(n.Id)).ExecuteUpdateAsync(n => n
            .SetProperty(x => x.EmailAttempts, attempts)
            .SetProperty(x => x.EmailFailedAt, failed ? now : null)
            .SetProperty(x => x.NextEmailAttemptAt, now + Backoff(attempts)), ct);
        return failed;
    }

    /// <summary>The mail server is unreachable: the mails wait for it without counting an attempt. One statement.</summary>
    public Task DeferAsync(IReadOnlyCollection<long> notificationIds, TimeSpan delay, CancellationToken ct) =>
        notificationIds.Count == 0
            ? Task.CompletedTask
            : db.Notifications.Where(n => notificationIds.Contains(n.Id))
                .ExecuteUpdateAsync(n => n.SetProperty(x => x.NextEmailAttemptAt, timeProvider.UtcNow() + delay), ct);

    /// <summary>When the next mail is due, if any is waiting.</summary>
    public Task<DateTime?> NextDueAsync(CancellationToken ct) =>
        db.Notifications.Where(n => n.EmailedAt == null && n.EmailFailedAt == null)
            .MinAsync(n => (DateTime?)(n.NextEmailAttemptAt ?? n.CreatedAt), ct);

    // 2 s, 4 s, 8 s, 16 s between refused attempts.
    public static TimeSpan Backoff(int attempts) => TimeSpan.FromSeconds(Math.Pow(2, Math.Min(attempts, 10)));
}
