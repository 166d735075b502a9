using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>Bookings as the commands answer with them, and why an event refused a conditional write.</summary>
public sealed class BookingReads(EventlyDbContext db)
{
    /// <summary>Bookings with their event and seats, read-only.</summary>
    public IQueryable<Booking> Query() =>
        db.Bookings.AsNoTracking().Include(b => b.Event).Include(b => b.Seats).ThenInclude(s => s.Seat);

    /// <summary>Bookings with the status their holder reads (<see cref="Booking.StatusAsRead"/>), in SQL.</summary>
    public static IQueryable<Booking> WithStatusAsRead(IQueryable<Booking> bookings, BookingStatus status) => status == BookingStatus.Confirmed
        ? bookings.Where(b => b.Status == BookingStatus.Confirmed && b.Event!.Status != EventStatus.Cancelled)
        : bookings.Where(b => b.Status == BookingStatus.Cancelled || b.Event!.Status == EventStatus.Cancelled);

    public Task<Booking> SingleAsync(long bookingId, CancellationToken cancellationToken) =>
        Query().SingleAsync(b => b.Id == bookingId, cancellationToken);

    /// <summary>The booking a try wrote, found by its attempt token: how a lost reply is told from a write that never happened.</summary>
    public Task<Booking?> FindWrittenAsync(Guid attemptId, CancellationToken cancellationToken) =>
        Query().SingleOrDefaultAsync(b => b.AttemptId == attemptId, cancellationToken);

    /// <summary>
    /// Why a conditional write took nothing, in the order <see cref="BookingRules.CheckEvent"/> reports it; for a direct
    /// booking (<see cref="Capacity.TakeForDirectBookingsSql"/>) also an event that has become high-demand, or whose sale
    /// has not opened.
    /// </summary>
    public async Task<DomainError> WhyNotBookableAsync(long eventId, DateTime now, CancellationToken ct, bool seatsChosen = true, bool direct = false)
    {
        var evt = await db.Events.AsNoTracking().Where(e => e.Id == eventId)
            .Select(e => new { e.Status, e.StartsAt, e.HasSeating, e.HighDemand, e.SalesStartAt }).SingleOrDefaultAsync(ct);
        return evt is null || evt.Status == EventStatus.Cancelled ? BookingErrors.EventNotFound
            : evt.StartsAt <= now ? BookingErrors.EventStarted
            : direct && evt.HighDemand ? BookingErrors.HighDemand
            : direct && evt.SalesStartAt > now ? BookingErrors.NotOnSale(evt.SalesStartAt.Value)
            : evt.HasSeating && !seatsChosen ? BookingErrors.SeatsRequired
            : BookingErrors.SoldOut;
    }
}
