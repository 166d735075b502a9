using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Bookings;

// Many real HTTP clients racing against the real database: the contract's invariants must hold.
[Collection(AppCollection.Name)]
public sealed class BookingRaceTests(EventlyAppFixture fixture)
{
    private async Task<List<Caller>> UsersAsync(int count) =>
        (await Task.WhenAll(Enumerable.Range(0, count).Select(_ => fixture.NewUserAsync()))).ToList();

    [Fact]
    public async Task Four_hundred_racing_requests_for_fifty_tickets_confirm_exactly_fifty()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 50);
        var users = await UsersAsync(40);

        var responses = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => users[i % users.Count].BookAsync(evt.Id, 1)));

        Assert.Equal(50, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(350, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(50, (await fixture.ReadEventAsync(evt.Id)).Booked);
        await AssertInvariantsAsync(evt.Id, expectedBooked: 50);
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task Two_hundred_racing_requests_for_five_seats_give_each_seat_to_one_booking()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 5,
            seating: new { sections = new[] { new { name = "Front", rows = 1, seatsPerRow = 5 } } });
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!.Select(s => s.Id).ToList();
        var users = await UsersAsync(40);
        var random = new Random(42);
        var wanted = Enumerable.Range(0, 200)
            .Select(_ => seats.OrderBy(_ => random.Next()).Take(random.Next(1, 3)).ToList())
            .ToList();

        var responses = await Task.WhenAll(wanted.Select((seatIds, i) => users[i % users.Count].BookSeatsAsync(evt.Id, seatIds)));

        var confirmed = new List<BookingDto>();
        foreach (var response in responses.Where(r => r.StatusCode == HttpStatusCode.Created))
        {
            confirmed.Add((await response.Content.ReadFromJsonAsync<BookingDto>())!);
        }
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var bookedSeats = confirmed.SelectMany(b => b.Seats.Select(s => s.Id)).ToList();
        Assert.Equal(bookedSeats.Count, bookedSeats.Distinct().Count());
        Assert.NotEmpty(confirmed);
        await AssertInvariantsAsync(evt.Id, expectedBooked: bookedSeats.Count);
        users.ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task Racing_requests_with_one_idempotency_key_make_one_booking()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 100);
        var key = $"race-{Guid.NewGuid():N}";

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => user.BookAsync(evt.Id, 2, key)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<BookingDto>())!.Id));
        Assert.Single(ids.Distinct());
        Assert.Equal(2, (await fixture.ReadEventAsync(evt.Id)).Booked);
        await AssertInvariantsAsync(evt.Id, expectedBooked: 2);
    }

    [Fact]
    public async Task Racing_cancels_and_books_on_a_full_event_keep_booked_within_capacity()
    {
        const int capacity = 20;
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: capacity);
        var holders = await UsersAsync(capacity);
        var bookings = await Task.WhenAll(holders.Select(h => h.BookAsync(evt.Id, 1).BookedAsync()));
        var hopefuls = await UsersAsync(20);

        // Watch the counter from the database while the race runs.
        using var stop = new CancellationTokenSource();
        var observed = new List<int>();
        var watcher = Task.Run(async () =>
        {
            await using var db = fixture.CreateDbContext();
            while (!stop.IsCancellationRequested)
            {
                observed.Add(await db.Events.Where(e => e.Id == evt.Id).Select(e => e.Booked).SingleAsync());
                await Task.Delay(5);
            }
        });

        var cancels = bookings.SelectMany((b, i) => Enumerable.Repeat(holders[i], 2)
            .Select(h => h.Http.DeleteAsync($"/api/bookings/{b.Id}")));
        var books = Enumerable.Range(0, 100).Select(i => hopefuls[i % hopefuls.Count].BookAsync(evt.Id, 1));
        var responses = await Task.WhenAll(cancels.Concat(books).ToList());
        await stop.CancelAsync();
        await watcher;

        Assert.All(responses, r => Assert.Contains(r.StatusCode,
            new[] { HttpStatusCode.NoContent, HttpStatusCode.Created, HttpStatusCode.Conflict }));
        Assert.All(observed, booked => Assert.InRange(booked, 0, capacity));
        var newBookings = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        Assert.InRange(newBookings, 1, capacity);
        await AssertInvariantsAsync(evt.Id, expectedBooked: newBookings);
        holders.Concat(hopefuls).ToList().ForEach(u => u.Dispose());
    }

    [Fact]
    public async Task Racing_seat_changes_of_one_booking_leave_it_holding_exactly_its_quantity()
    {
        using var admin = await fixture.AdminAsync();
        using var owner = await fixture.NewUserAsync();
        using var rival = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 12,
            seating: new { sections = new[] { new { name = "Hall", rows = 2, seatsPerRow = 6 } } });
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!.Select(s => s.Id).ToList();
        var booking = await owner.BookSeatsAsync(evt.Id, seats.Take(2)).BookedAsync();

        // A double (or tenfold) click on "change seats", each with other seats, while a rival books seats too.
        var changes = Enumerable.Range(0, 10).Select(i => owner.Http.PostAsJsonAsync($"/api/bookings/{booking.Id}/seats",
            new { seatIds = new[] { seats[2 + i % 10], seats[(3 + i) % 10 + 2] } }));
        var rivals = seats.Skip(2).Select(seat => rival.BookSeatsAsync(evt.Id, [seat]));
        var responses = await Task.WhenAll(changes.Concat(rivals).ToList());

        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var after = (await owner.Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{booking.Id}"))!;
        Assert.Equal(2, after.Seats.Count);
        var rivalBookings = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        await AssertInvariantsAsync(evt.Id, expectedBooked: 2 + rivalBookings);
    }

    [Fact]
    public async Task Cancelling_an_event_while_bookings_race_in_leaves_nothing_booked()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 200);
        var users = await UsersAsync(20);

        var books = Enumerable.Range(0, 100).Select(i => users[i % users.Count].BookAsync(evt.Id, 1)).ToList();
        var cancel = admin.Http.DeleteAsync($"/api/events/{evt.Id}");
        var responses = await Task.WhenAll(books.Append(cancel));

        Assert.Equal(HttpStatusCode.NoContent, (await cancel).StatusCode);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.NotFound, HttpStatusCode.NoContent }));
        // The worker cancels the bookings made before the cancel, from its outbox row (CancelEvent); none came after.
        await using var db = fixture.CreateDbContext();
        await WaitlistTestApi.EventuallyAsync(async () => !await db.Bookings.AnyAsync(b => b.EventId == evt.Id && b.Status == BookingStatus.Confirmed),
            TimeSpan.FromSeconds(15), "the worker's cancel of the event's bookings");
        await AssertInvariantsAsync(evt.Id, expectedBooked: 0);
        users.ForEach(u => u.Dispose());
    }

    private Task AssertInvariantsAsync(long eventId, int expectedBooked) => fixture.AssertBookingInvariantsAsync(eventId, expectedBooked);
}
