using System.Diagnostics;
using Evently.Domain.Infrastructure;

namespace Evently.Domain.Notifications;

/// <summary>Adds notifications to the caller's unit of work: they commit, or not, with the change they report.</summary>
public static class Notifier
{
    public static void Notify(this EventlyDbContext db, long userId, string kind, long? eventId, string message, DateTime now) =>
        db.Notifications.Add(new Notification
        {
            UserId = userId,
            Kind = kind,
            EventId = eventId,
            Message = message,
            CreatedAt = now,
            TraceParent = Activity.Current?.Id
        });
}
