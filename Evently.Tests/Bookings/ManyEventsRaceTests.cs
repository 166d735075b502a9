using Evently.Domain.Bookings;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Bookings;

// Real HTTP clients booking many events at once, through both API replicas: the direct bookings of different
// events share transactions (TicketBatches), and each event's invariants must hold as if each was booked alone.
[Collection(AppCollection.Name)]
public sealed class ManyEventsRaceTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task Racing_bookings_over_many_events_oversell_none_and_make_one_booking_per_key()
    {
        using var admin = await fixture.AdminAsync();
        var random = new Random(24);
        var events = new List<EventDto>();
        for (var i = 0; i < 30; i++)
        {
            events.Add(await admin.CreateEventAsync(capacity: random.Next(3, 13)));
        }
        var users = new List<Caller>();
        for (var i = 0; i < 30; i++)
        {
            users.Add(await fixture.NewUserAsync());
        }

        // 600 requests over the 30 events; a third carry an Idempotency-Key, each sent twice (a double click).
        var requests = Enumerable.Range(0, 300).Select(i =>
        {
            var key = i % 3 == 0 ? $"spread-{Guid.NewGuid():N}" : null;
            return (User: users[i % users.Count], Event: events[random.Next(events.Count)], Quantity: random.Next(1, 3), Key: key);
        }).SelectMany(r => new[] { r, r }).ToList();
        var responses = await Task.WhenAll(requests.Select(r => r.User.BookAsync(r.Event.Id, r.Quantity, r.Key)));

        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var answered = new List<(long EventId, int Quantity, string? Key, BookingDto? Booking)>();
        for (var i = 0; i < requests.Count; i++)
        {
            var booking = responses[i].StatusCode == HttpStatusCode.Created ? await responses[i].Content.ReadFromJsonAsync<BookingDto>() : null;
            answered.Add((requests[i].Event.Id, requests[i].Quantity, requests[i].Key, booking));
        }

        // One booking per key: both requests of a key that were answered 201 name the same booking.
        foreach (var twins in answered.Where(a => a.Key is not null && a.Booking is not null).GroupBy(a => a.Key))
        {
            Assert.Single(twins.Select(t => t.Booking!.Id).Distinct());
        }
        await using var db = fixture.CreateDbContext();
        foreach (var evt in events)
        {
            var made = answered.Where(a => a.EventId == evt.Id && a.Booking is not null)
                .DistinctBy(a => a.Booking!.Id).ToList();
            Assert.All(made, a => Assert.Equal((evt.Id, evt.Name, a.Quantity), (a.Booking!.EventId, a.Booking.EventName, a.Booking.Quantity)));
            // No oversell, booked = the sum of the confirmed bookings = the sum of what was answered 201.
            await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: made.Sum(a => a.Quantity));
            var stored = await db.Bookings.AsNoTracking().Where(b => b.EventId == evt.Id && b.Status == BookingStatus.Confirmed)
                .Select(b => b.Id).ToListAsync();
            Assert.Equal(made.Select(a => a.Booking!.Id).Order(), stored.Order());
            // Exact refusals: one ticket is refused only when none was left.
            if (answered.Any(a => a.EventId == evt.Id && a.Booking is null && a.Quantity == 1))
            {
                Assert.Equal(evt.Capacity, made.Sum(a => a.Quantity));
            }
        }
        users.ForEach(u => u.Dispose());
    }
}
