using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Infrastructure;

public static class Invariants
{
    // booked == sum of confirmed quantities, within capacity; each seat held by at most one confirmed booking.
    public static async Task AssertBookingInvariantsAsync(this EventlyAppFixture fixture, long eventId, int expectedBooked)
    {
        await using var db = fixture.CreateDbContext();
        var evt = await db.Events.AsNoTracking().SingleAsync(e => e.Id == eventId);
        var confirmed = await db.Bookings.Where(b => b.EventId == eventId && b.Status == BookingStatus.Confirmed).ToListAsync();

        Assert.Equal(expectedBooked, evt.Booked);
        Assert.Equal(evt.Booked, confirmed.Sum(b => b.Quantity));
        Assert.InRange(evt.Booked, 0, evt.Capacity);

        var confirmedIds = confirmed.Select(b => b.Id).ToList();
        var heldSeats = await db.BookingSeats.Where(s => s.Active == true && confirmedIds.Contains(s.BookingId))
            .Select(s => s.SeatId).ToListAsync();
        Assert.Equal(heldSeats.Count, heldSeats.Distinct().Count());
        var bookedSeats = await db.Seats.Where(s => s.EventId == eventId && s.Status == SeatStatus.Booked)
            .Select(s => s.Id).ToListAsync();
        Assert.Equal(heldSeats.Order(), bookedSeats.Order());
        if (evt.HasSeating)
        {
            Assert.Equal(evt.Booked, heldSeats.Count);
        }
    }
}
