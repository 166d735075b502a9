using Evently.Domain.Auth;
using Evently.Domain.Events;
using Evently.Domain.Notifications;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Evently.Domain.Infrastructure.Configurations;

internal sealed class WaitlistEntryConfiguration : IEntityTypeConfiguration<WaitlistEntry>
{
    public void Configure(EntityTypeBuilder<WaitlistEntry> entry)
    {
        entry.ToTable("waitlist_entries");
        entry.HasOne<Event>().WithMany().HasForeignKey(w => w.EventId);
        entry.HasOne<User>().WithMany().HasForeignKey(w => w.UserId);
        // The line of an event in order, and a user's entries.
        entry.HasIndex(w => new { w.EventId, w.Status, w.Id });
        entry.HasIndex(w => new { w.UserId, w.EventId, w.Active }).IsUnique();
        entry.HasIndex(w => new { w.Status, w.OfferExpiresAt });
        entry.Property(w => w.HeldSeatIds).HasMaxLength(300);
    }
}

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> notification)
    {
        notification.ToTable("notifications");
        notification.HasOne<User>().WithMany().HasForeignKey(n => n.UserId);
        notification.Property(n => n.Kind).HasMaxLength(32);
        notification.Property(n => n.Message).HasMaxLength(1000);
        notification.HasIndex(n => new { n.UserId, n.CreatedAt });
        // The mail queue takes the oldest unsent rows: InnoDB keeps the primary key after these columns, so the
        // unsent ones come in Id order and a take reads what it takes, not every mail ever sent before them.
        notification.HasIndex(n => new { n.EmailedAt, n.EmailFailedAt });
        notification.Property(n => n.TraceParent).HasMaxLength(64);
    }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> message)
    {
        message.ToTable("outbox_messages");
        message.Property(m => m.Kind).HasMaxLength(32);
        message.HasIndex(m => new { m.ProcessedAt, m.Id });
        message.Property(m => m.TraceParent).HasMaxLength(64);
        message.Property(m => m.Message).HasMaxLength(1000);
    }
}
