using Evently.Domain.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Evently.Domain.Infrastructure.Configurations;

internal sealed class EventConfiguration : IEntityTypeConfiguration<Event>
{
    public void Configure(EntityTypeBuilder<Event> evt)
    {
        evt.ToTable("events", table =>
        {
            // The last line of defence against overselling, whatever the code above it does.
            table.HasCheckConstraint("ck_events_booked_within_capacity", "`Booked` >= 0 AND `Held` >= 0 AND `Booked` + `Held` <= `Capacity`");
        });
        evt.Property(e => e.Name).HasMaxLength(200);
        evt.Property(e => e.Description).HasMaxLength(4000);
        evt.Property(e => e.Venue).HasMaxLength(200);
        evt.Property(e => e.Version).IsConcurrencyToken();
        evt.Ignore(e => e.Available);

        // The public list: scheduled events by start time, optionally in a range.
        evt.HasIndex(e => new { e.Status, e.StartsAt });
        evt.HasMany(e => e.Seats).WithOne().HasForeignKey(s => s.EventId);
    }
}

internal sealed class SeatConfiguration : IEntityTypeConfiguration<Seat>
{
    public void Configure(EntityTypeBuilder<Seat> seat)
    {
        seat.ToTable("seats");
        seat.Property(s => s.Section).HasMaxLength(50);
        seat.Property(s => s.Row).HasMaxLength(8);
        seat.HasIndex(s => new { s.EventId, s.Section, s.Row, s.Number }).IsUnique();
    }
}
