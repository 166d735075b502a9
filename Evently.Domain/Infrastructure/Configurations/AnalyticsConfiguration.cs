using Evently.Domain.Analytics;
using Evently.Domain.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Evently.Domain.Infrastructure.Configurations;

internal sealed class DailyBookingRollupConfiguration : IEntityTypeConfiguration<DailyBookingRollup>
{
    public void Configure(EntityTypeBuilder<DailyBookingRollup> rollup)
    {
        rollup.ToTable("analytics_days");
        // A range of days is a range of the primary key.
        rollup.HasKey(r => new { r.Day, r.Shard });
    }
}

internal sealed class EventBookingRollupConfiguration : IEntityTypeConfiguration<EventBookingRollup>
{
    public void Configure(EntityTypeBuilder<EventBookingRollup> rollup)
    {
        rollup.ToTable("analytics_events");
        rollup.HasKey(r => r.EventId);
        rollup.Property(r => r.EventId).ValueGeneratedNever();
        rollup.HasOne<Event>().WithMany().HasForeignKey(r => r.EventId);
        // The most booked events: the first rows of this index.
        rollup.HasIndex(r => new { r.TicketsSold, r.EventId }).IsDescending(true, false);
    }
}
