using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Bookings;

[Collection(AppCollection.Name)]
public sealed class BookingsTests(EventlyAppFixture fixture)
{
    private static readonly object FiveByTwo = new { sections = new[] { new { name = "Stalls", rows = 2, seatsPerRow = 5 } } };

    private async Task<(EventDto Event, List<SeatDto> Seats)> SeatedEventAsync(Caller admin)
    {
        var evt = await admin.CreateEventAsync(capacity: 10, seating: FiveByTwo);
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!;
        return (evt, seats);
    }

    [Fact]
    public async Task Booking_a_quantity_confirms_it_and_takes_the_tickets()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 10);
        await fixture.ReadEventAsync(evt.Id); // cached now: the count must still show within a second

        var response = await user.BookAsync(evt.Id, 3);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var booking = (await response.Content.ReadFromJsonAsync<BookingDto>())!;
        Assert.Equal($"/api/bookings/{booking.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal((evt.Id, evt.Name, 3, "confirmed"), (booking.EventId, booking.EventName, booking.Quantity, booking.Status));
        Assert.Empty(booking.Seats);
        Assert.Null(booking.CancelledAt);
        var after = await fixture.ReadEventOnceFreshAsync(evt.Id, e => e.Booked == 3);
        Assert.Equal((3, 7), (after.Booked, after.Available));
    }

    [Fact]
    public async Task Booking_seats_confirms_them_and_marks_them_booked()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var (evt, seats) = await SeatedEventAsync(admin);

        var booking = await user.BookSeatsAsync(evt.Id, [seats[0].Id, seats[6].Id]).BookedAsync();

        Assert.Equal((evt.Id, evt.Name, 2, "confirmed"), (booking.EventId, booking.EventName, booking.Quantity, booking.Status));
        Assert.Equal([seats[0].Id, seats[6].Id], booking.Seats.Select(s => s.Id).Order());
        Assert.Equal(("Stalls", "A", 1), (booking.Seats[0].Section, booking.Seats[0].Row, booking.Seats[0].Number));
        var after = await fixture.ReadSeatsOnceFreshAsync(evt.Id, all => all.Count(s => s.Status == "booked") == 2);
        Assert.Equal(["booked", "booked"], after.Where(s => s.Id == seats[0].Id || s.Id == seats[6].Id).Select(s => s.Status));
        Assert.Equal(8, after.Count(s => s.Status == "available"));
        await fixture.ReadEventOnceFreshAsync(evt.Id, e => e.Booked == 2);
    }

    [Fact]
    public async Task Bad_booking_requests_answer_400_with_field_errors()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var plain = await admin.CreateEventAsync(capacity: 50);
        var (seated, seats) = await SeatedEventAsync(admin);
        var (other, otherSeats) = await SeatedEventAsync(admin);

        async Task Expect400(object body, string field)
        {
            var problem = await (await user.PostBookingAsync(body, null)).ReadProblemAsync(HttpStatusCode.BadRequest);
            Assert.NotEmpty(problem.FieldErrors(field));
        }

        await Expect400(new { eventId = plain.Id, quantity = 0 }, "quantity");
        await Expect400(new { eventId = plain.Id, quantity = 11 }, "quantity");
        await Expect400(new { eventId = plain.Id }, "quantity");
        await Expect400(new { eventId = seated.Id, quantity = 2 }, "seatIds");
        await Expect400(new { eventId = seated.Id, seatIds = new[] { 987654321L } }, "seatIds");
        await Expect400(new { eventId = seated.Id, seatIds = new[] { seats[0].Id, otherSeats[0].Id } }, "seatIds");
        await Expect400(new { eventId = seated.Id, seatIds = new[] { seats[0].Id, seats[0].Id } }, "seatIds");
        await Expect400(new { eventId = plain.Id, seatIds = new[] { seats[0].Id } }, "seatIds");

        var longKey = await user.BookAsync(plain.Id, 1, new string('k', 65));
        await longKey.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(0, (await fixture.ReadEventAsync(plain.Id)).Booked);
        Assert.Equal(0, (await fixture.ReadEventAsync(other.Id)).Booked);
    }

    [Fact]
    public async Task Unknown_cancelled_and_started_events_cannot_be_booked()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var cancelled = await admin.CreateEventAsync();
        await admin.Http.DeleteAsync($"/api/events/{cancelled.Id}");
        var started = await admin.CreateEventAsync();
        await using (var db = fixture.CreateDbContext())
        {
            await db.Events.Where(e => e.Id == started.Id)
                .ExecuteUpdateAsync(e => e.SetProperty(x => x.StartsAt, DateTime.UtcNow.AddMinutes(-5)));
        }

        await (await user.BookAsync(987654321, 1)).ReadProblemAsync(HttpStatusCode.NotFound);
        await (await user.BookAsync(cancelled.Id, 1)).ReadProblemAsync(HttpStatusCode.NotFound);
        var problem = await (await user.BookAsync(started.Id, 1)).ReadProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("event-started", problem.Code());
        await (await fixture.Api.PostAsJsonAsync("/api/bookings", new { eventId = started.Id, quantity = 1 }))
            .ReadProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Sold_out_and_seat_taken_answer_409_with_their_codes()
    {
        using var admin = await fixture.AdminAsync();
        using var first = await fixture.NewUserAsync();
        using var second = await fixture.NewUserAsync();
        var small = await admin.CreateEventAsync(capacity: 3);
        var (seated, seats) = await SeatedEventAsync(admin);

        await first.BookAsync(small.Id, 2).BookedAsync();
        var soldOut = await (await second.BookAsync(small.Id, 2)).ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("sold-out", soldOut.Code());
        Assert.EndsWith("/sold-out", soldOut.GetProperty("type").GetString());
        await second.BookAsync(small.Id, 1).BookedAsync();

        await first.BookSeatsAsync(seated.Id, [seats[2].Id]).BookedAsync();
        var taken = await (await second.BookSeatsAsync(seated.Id, [seats[1].Id, seats[2].Id])).ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("seat-taken", taken.Code());
        // Nothing of the refused booking stays: seat 1 is still free and only one ticket is booked.
        Assert.Equal(1, (await fixture.ReadEventAsync(seated.Id)).Booked);
        await second.BookSeatsAsync(seated.Id, [seats[1].Id]).BookedAsync();
    }

    [Fact]
    public async Task History_lists_the_callers_bookings_newest_first_with_a_status_filter()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        using var stranger = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 20);
        var oldest = await user.BookAsync(evt.Id, 1).BookedAsync();
        var middle = await user.BookAsync(evt.Id, 2).BookedAsync();
        var newest = await user.BookAsync(evt.Id, 3).BookedAsync();
        await stranger.BookAsync(evt.Id, 1).BookedAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await user.Http.DeleteAsync($"/api/bookings/{middle.Id}")).StatusCode);

        var all = (await user.Http.GetFromJsonAsync<PageDto<BookingDto>>("/api/bookings"))!;
        Assert.Equal([newest.Id, middle.Id, oldest.Id], all.Items.Select(b => b.Id));
        Assert.Equal(3, all.TotalCount);
        Assert.Equal("cancelled", all.Items[1].Status);
        Assert.NotNull(all.Items[1].CancelledAt);

        var confirmed = (await user.Http.GetFromJsonAsync<PageDto<BookingDto>>("/api/bookings?status=confirmed"))!;
        Assert.Equal([newest.Id, oldest.Id], confirmed.Items.Select(b => b.Id));
        var cancelled = (await user.Http.GetFromJsonAsync<PageDto<BookingDto>>("/api/bookings?status=cancelled&pageSize=1"))!;
        Assert.Equal([middle.Id], cancelled.Items.Select(b => b.Id));

        var paged = (await user.Http.GetFromJsonAsync<PageDto<BookingDto>>("/api/bookings?page=2&pageSize=2"))!;
        Assert.Equal([oldest.Id], paged.Items.Select(b => b.Id));
        await (await user.Http.GetAsync("/api/bookings?status=lost")).ReadProblemAsync(HttpStatusCode.BadRequest);
        await (await fixture.Api.GetAsync("/api/bookings")).ReadProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_booking_is_visible_to_its_owner_only()
    {
        using var admin = await fixture.AdminAsync();
        using var owner = await fixture.NewUserAsync();
        using var stranger = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync();
        var booking = await owner.BookAsync(evt.Id, 2).BookedAsync();

        var read = await owner.Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{booking.Id}");
        Assert.Equivalent(booking, read, strict: true);
        await (await stranger.Http.GetAsync($"/api/bookings/{booking.Id}")).ReadProblemAsync(HttpStatusCode.NotFound);
        await (await admin.Http.GetAsync($"/api/bookings/{booking.Id}")).ReadProblemAsync(HttpStatusCode.NotFound);
        await (await owner.Http.GetAsync("/api/bookings/987654321")).ReadProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Cancelling_returns_tickets_and_seats_to_sale_within_a_second()
    {
        using var admin = await fixture.AdminAsync();
        using var owner = await fixture.NewUserAsync();
        using var stranger = await fixture.NewUserAsync();
        var (evt, seats) = await SeatedEventAsync(admin);
        var booking = await owner.BookSeatsAsync(evt.Id, [seats[3].Id, seats[4].Id]).BookedAsync();

        await (await stranger.Http.DeleteAsync($"/api/bookings/{booking.Id}")).ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);

        var cancelled = (await owner.Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{booking.Id}"))!;
        Assert.Equal("cancelled", cancelled.Status);
        Assert.NotNull(cancelled.CancelledAt);
        Assert.Equal(2, cancelled.Seats.Count);
        await fixture.ReadEventOnceFreshAsync(evt.Id, e => e.Booked == 0);
        // Nobody waits for them: back on sale, in the cancel's own transaction (WaitlistHoldsTests: when someone waits).
        await fixture.ReadSeatsOnceFreshAsync(evt.Id, all => all.All(s => s.Status == "available"));

        // Cancelling again changes nothing, and the seats can be booked by someone else.
        Assert.Equal(HttpStatusCode.NoContent, (await owner.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
        Assert.Equal(0, (await fixture.ReadEventAsync(evt.Id)).Booked);
        await stranger.BookSeatsAsync(evt.Id, [seats[3].Id]).BookedAsync();
    }

    [Fact]
    public async Task An_admin_may_cancel_any_booking_but_not_once_the_event_started()
    {
        using var admin = await fixture.AdminAsync();
        using var owner = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync();
        var first = await owner.BookAsync(evt.Id, 1).BookedAsync();
        var second = await owner.BookAsync(evt.Id, 1).BookedAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/bookings/{first.Id}")).StatusCode);
        await using (var db = fixture.CreateDbContext())
        {
            await db.Events.Where(e => e.Id == evt.Id)
                .ExecuteUpdateAsync(e => e.SetProperty(x => x.StartsAt, DateTime.UtcNow.AddMinutes(-1)));
        }
        var late = await (await owner.Http.DeleteAsync($"/api/bookings/{second.Id}")).ReadProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("event-started", late.Code());
    }

    [Fact]
    public async Task Cancelling_an_event_cancels_its_bookings_and_notifies_the_holders()
    {
        using var admin = await fixture.AdminAsync();
        using var owner = await fixture.NewUserAsync();
        var (evt, seats) = await SeatedEventAsync(admin);
        var booking = await owner.BookSeatsAsync(evt.Id, [seats[0].Id]).BookedAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);

        // Off sale at once; its bookings are cancelled by the worker's batches right after.
        Assert.Equal("cancelled", (await fixture.ReadEventAsync(evt.Id)).Status);
        await WaitlistTestApi.EventuallyAsync(async () =>
            (await owner.Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{booking.Id}"))!.Status == "cancelled",
            TimeSpan.FromSeconds(5), "the booking's cancel");
        await fixture.ReadEventOnceFreshAsync(evt.Id, e => e.Booked == 0);
        await using var db = fixture.CreateDbContext();
        Assert.True(await db.Notifications.AnyAsync(n => n.UserId == owner.User.Id && n.EventId == evt.Id && n.Kind == "event-cancelled"));
    }

    [Fact]
    public async Task Seats_of_a_booking_can_be_changed_and_a_taken_seat_changes_nothing()
    {
        using var admin = await fixture.AdminAsync();
        using var owner = await fixture.NewUserAsync();
        using var other = await fixture.NewUserAsync();
        var (evt, seats) = await SeatedEventAsync(admin);
        var booking = await owner.BookSeatsAsync(evt.Id, [seats[0].Id, seats[1].Id]).BookedAsync();
        await other.BookSeatsAsync(evt.Id, [seats[9].Id]).BookedAsync();

        var moved = await owner.Http.PostAsJsonAsync($"/api/bookings/{booking.Id}/seats", new { seatIds = new[] { seats[1].Id, seats[5].Id } });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal([seats[1].Id, seats[5].Id], (await moved.Content.ReadFromJsonAsync<BookingDto>())!.Seats.Select(s => s.Id).Order());

        var taken = await owner.Http.PostAsJsonAsync($"/api/bookings/{booking.Id}/seats", new { seatIds = new[] { seats[2].Id, seats[9].Id } });
        Assert.Equal("seat-taken", (await taken.ReadProblemAsync(HttpStatusCode.Conflict)).Code());
        var wrongCount = await owner.Http.PostAsJsonAsync($"/api/bookings/{booking.Id}/seats", new { seatIds = new[] { seats[2].Id } });
        await wrongCount.ReadProblemAsync(HttpStatusCode.BadRequest);
        var notMine = await other.Http.PostAsJsonAsync($"/api/bookings/{booking.Id}/seats", new { seatIds = new[] { seats[2].Id, seats[3].Id } });
        await notMine.ReadProblemAsync(HttpStatusCode.NotFound);

        var status = (await fixture.ReadSeatsOnceFreshAsync(evt.Id, all => all.Single(s => s.Id == seats[5].Id).Status == "booked"))
            .Where(s => s.Status == "booked").Select(s => s.Id).Order();
        Assert.Equal(new[] { seats[1].Id, seats[5].Id, seats[9].Id }.Order(), status);
        Assert.Equal(3, (await fixture.ReadEventAsync(evt.Id)).Booked);
    }

    [Fact]
    public async Task The_same_idempotency_key_returns_the_first_booking()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        using var other = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 10);
        var key = Guid.NewGuid().ToString();

        var first = await user.BookAsync(evt.Id, 2, key).BookedAsync();
        var again = await user.BookAsync(evt.Id, 2, key).BookedAsync();
        var othersKey = await other.BookAsync(evt.Id, 2, key).BookedAsync();

        Assert.Equivalent(first, again, strict: true);
        Assert.NotEqual(first.Id, othersKey.Id);
        Assert.Equal(4, (await fixture.ReadEventAsync(evt.Id)).Booked);

        // The same key for a different request is refused, not replayed.
        var reused = await (await user.BookAsync(evt.Id, 3, key)).ReadProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("idempotency-key-reused", reused.Code());
        Assert.Equal(4, (await fixture.ReadEventAsync(evt.Id)).Booked);
    }
}
