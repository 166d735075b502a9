using Evently.Domain.Common;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Notifications;

// A user's notifications, as the API shows them.
public sealed class NotificationService(EventlyDbContext db, TimeProvider timeProvider)
{
    public static readonly DomainError NotFound = DomainError.NotFound("The notification");

    /// <summary>The user's notifications, newest first.</summary>
    public async Task<(List<Notification> Items, int Total)> ListAsync(long userId, int skip, int take, CancellationToken cancellationToken)
    {
        var mine = db.Notifications.AsNoTracking().Where(n => n.UserId == userId);
        var total = await mine.CountAsync(cancellationToken);
        var page = await mine.OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id)
            .Skip(skip).Take(take).ToListAsync(cancellationToken);
        return (page, total);
    }

    /// <summary>Marks a notification read; reading it again keeps the first time.</summary>
    public async Task<Result<bool>> MarkReadAsync(long id, long userId, CancellationToken cancellationToken)
    {
        var now = timeProvider.UtcNow();
        var changed = await db.Notifications.Where(n => n.Id == id && n.UserId == userId && n.ReadAt == null)
            .ExecuteUpdateAsync(n => n.SetProperty(x => x.ReadAt, now), cancellationToken);
        return changed > 0 || await db.Notifications.AnyAsync(n => n.Id == id && n.UserId == userId, cancellationToken)
            ? true
            : NotFound;
    }
}
