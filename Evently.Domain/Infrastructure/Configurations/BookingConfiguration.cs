using Evently.Domain.Auth;
using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Evently.Domain.Infrastructure.Configurations;

internal sealed class BookingConfiguration : IEntityTypeConfiguration<Booking>
{
    public void Configure(EntityTypeBuilder<Booking> booking)
    {
        booking.ToTable("bookings");
        booking.HasOne(b => b.Event).WithMany().HasForeignKey(b => b.EventId);
        booking.HasOne<User>().WithMany().HasForeignKey(b => b.UserId);
        booking.HasIndex(b => b.AttemptId).IsUnique();
        // A user's history, newest first; analytics by day.
        booking.HasIndex(b => new { b.UserId, b.CreatedAt });
        // An event's active bookings, and its holders in order (an event's cancel and notices go through them in batches).
        booking.HasIndex(b => new { b.EventId, b.Status, b.UserId });
        booking.HasIndex(b => b.CreatedAt);
        booking.HasIndex(b => b.CancelledAt);
        booking.HasMany(b => b.Seats).WithOne().HasForeignKey(s => s.BookingId);
    }
}

internal sealed class BookingSeatConfiguration : IEntityTypeConfiguration<BookingSeat>
{
    public void Configure(EntityTypeBuilder<BookingSeat> bookingSeat)
    {
        bookingSeat.ToTable("booking_seats");
        bookingSeat.HasKey(s => new { s.BookingId, s.SeatId });
        bookingSeat.HasOne(s => s.Seat).WithMany().HasForeignKey(s => s.SeatId);
        bookingSeat.HasIndex(s => new { s.SeatId, s.Active }).IsUnique();
    }
}

internal sealed class BookingRequestConfiguration : IEntityTypeConfiguration<BookingRequest>
{
    public void Configure(EntityTypeBuilder<BookingRequest> request)
    {
        request.ToTable("booking_requests");
        request.HasOne<Event>().WithMany().HasForeignKey(r => r.EventId);
        request.HasOne<User>().WithMany().HasForeignKey(r => r.UserId);
        request.HasOne<Booking>().WithMany().HasForeignKey(r => r.BookingId);
        request.Property(r => r.SeatIds).HasMaxLength(1000);
        request.Property(r => r.Reason).HasMaxLength(200);
        // Position in the queue: queued requests of the event ahead of this one.
        request.HasIndex(r => new { r.EventId, r.Status, r.Id });
    }
}
