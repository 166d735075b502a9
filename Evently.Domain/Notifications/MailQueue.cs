using System.Data;
using Evently.Domain.Common;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Notifications;

/// <summary>A notification whose e-mail is due, with what the mail needs.</summary>
public sealed record PendingMail(long NotificationId, string To, string Name, string Kind, string Message, string? TraceParent, int Attempts);

/// <summary>
/// The e-mails of notifications, as a queue in the notifications table: a sender takes due rows (moving
/// their next attempt forward, a lease, so that no other sender takes them), sends, then marks each one
/// sent, refused (retried with backoff, given up after <see cref="MaxAttempts"/>) or deferred (the mail
/// server is unreachable: no attempt is counted, it waits for the server to return).
/// </summary>
public sealed class MailQueue(EventlyDbContext db, TimeProvider timeProvider)
{
    public const int MaxAttempts = 5;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    public Task<List<PendingMail>> TakeDueAsync(int max, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(max, async (_, take, ct) =>
        {
            db.ChangeTracker.Clear();
            var now = timeProvider.UtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            var due = await db.Notifications.FromSql($"""
                SELECT * FROM notifications
                WHERE EmailedAt IS NULL AND EmailFailedAt IS NULL AND (NextEmailAttemptAt IS NULL OR NextEmailAttemptAt <= {now})
                ORDER BY Id LIMIT {take} FOR UPDATE SKIP LOCKED
                """).ToListAsync(ct);
            due.ForEach(n => n.NextEmailAttemptAt = now + Lease);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);

            var ids = due.Select(n => n.UserId).Distinct().ToList();
            var users = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
            return due.Select(n => new PendingMail(n.Id, users[n.UserId].Email, users[n.UserId].Name, n.Kind, n.Message,
                n.TraceParent, n.EmailAttempts)).ToList();
        }, null, cancellationToken);

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
        await db.Notifications.Where(n => n.Id == mail.NotificationId).ExecuteUpdateAsync(n => n
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
