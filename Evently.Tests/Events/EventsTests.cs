using Evently.Domain.Events;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Events;

[Collection(AppCollection.Name)]
public sealed class EventsTests(EventlyAppFixture fixture)
{
    private static readonly object TwoSections = new
    {
        sections = new[] { new { name = "Stalls", rows = 3, seatsPerRow = 4 }, new { name = "Balcony", rows = 1, seatsPerRow = 5 } }
    };

    [Fact]
    public async Task Admin_creates_an_event_that_anyone_can_read()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: 250);

        var response = await admin.Http.PostAsJsonAsync("/api/events", body);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<EventDto>())!;
        Assert.Equal($"/api/events/{created.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(250, created.Capacity);
        Assert.Equal(0, created.Booked);
        Assert.Equal(250, created.Available);
        Assert.Equal("scheduled", created.Status);
        Assert.False(created.HasSeating);
        Assert.Equal(DateTimeKind.Utc, created.StartsAt.Kind);

        var read = await fixture.Api.GetFromJsonAsync<EventDto>($"/api/events/{created.Id}");
        Assert.Equal(created with { CreatedAt = read!.CreatedAt, UpdatedAt = read.UpdatedAt }, read);
    }

    [Fact]
    public async Task Creating_needs_an_admin_token()
    {
        using var user = await fixture.NewUserAsync();
        var body = TestApi.NewEventBody();

        await (await fixture.Api.PostAsJsonAsync("/api/events", body)).ReadProblemAsync(HttpStatusCode.Unauthorized);
        await (await user.Http.PostAsJsonAsync("/api/events", body)).ReadProblemAsync(HttpStatusCode.Forbidden);

        using var forged = fixture.CreateApiClient();
        forged.DefaultRequestHeaders.Authorization = new("Bearer", "not.a.token");
        await (await forged.PostAsJsonAsync("/api/events", body)).ReadProblemAsync(HttpStatusCode.Unauthorized);
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"name":"","venue":"V","startsAt":"2099-01-01T19:00:00Z","endsAt":"2099-01-01T22:00:00Z","capacity":10}""", "name" },
        { """{"name":"N","venue":"V","startsAt":"2099-01-01T19:00:00Z","endsAt":"2099-01-01T19:00:00Z","capacity":10}""", "endsAt" },
        { """{"name":"N","venue":"V","startsAt":"2099-01-01T19:00:00Z","endsAt":"2099-01-01T22:00:00Z","capacity":0}""", "capacity" },
        { """{"name":"N","venue":"V","startsAt":"2001-01-01T19:00:00Z","endsAt":"2001-01-01T22:00:00Z","capacity":10}""", "startsAt" },
        { """{"name":"N","venue":"V","startsAt":"2099-01-01T19:00:00Z","endsAt":"2099-01-01T22:00:00Z","capacity":10,"seating":{"sections":[{"name":"A","rows":2,"seatsPerRow":4}]}}""", "capacity" },
        { """{"name":"N","venue":"V","startsAt":"2099-01-01T19:00:00Z","endsAt":"2099-01-01T22:00:00Z","capacity":8,"seating":{"sections":[{"name":"A","rows":0,"seatsPerRow":4}]}}""", "seating.sections[0].rows" },
        { """{"name":"N","venue":"","startsAt":"2099-01-01T19:00:00Z","endsAt":"2099-01-01T22:00:00Z","capacity":10}""", "venue" },
        { """{"name":"N","venue":"V","startsAt":"2099-01-01T19:00:00Z","endsAt":"2099-01-01T22:00:00Z","capacity":1,"seating":{"sections":[null]}}""", "seating.sections[0]" },
        { """{"name":"N","venue":"V","startsAt":"2099-01-01T19:00:00Z","endsAt":"2099-01-01T22:00:00Z","capacity":2,"seating":{"sections":[{"name":"Cafe","rows":1,"seatsPerRow":1},{"name":"CAFÉ","rows":1,"seatsPerRow":1}]}}""", "seating.sections" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Create_rejects_an_invalid_event_with_field_errors(string json, string field)
    {
        using var admin = await fixture.AdminAsync();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");

        var response = await admin.Http.PostAsync("/api/events", content);

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.FieldErrors(field));
    }

    [Fact]
    public async Task A_seat_layout_creates_named_seats()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 17, seating: TwoSections);

        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!;

        Assert.True(evt.HasSeating);
        Assert.Equal(17, seats.Count);
        Assert.All(seats, s => Assert.Equal("available", s.Status));
        Assert.Equal(17, seats.Select(s => (s.Section, s.Row, s.Number)).Distinct().Count());
        Assert.Equal(["A", "B", "C"], seats.Where(s => s.Section == "Stalls").Select(s => s.Row).Distinct().Order());
        Assert.Equal([1, 2, 3, 4, 5], seats.Where(s => s.Section == "Balcony").Select(s => s.Number).Order());
    }

    [Fact]
    public async Task Seats_of_an_unseated_event_are_empty_and_of_an_unknown_event_404()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 5);

        Assert.Empty((await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!);
        await (await fixture.Api.GetAsync("/api/events/987654321/seats")).ReadProblemAsync(HttpStatusCode.NotFound);
        await (await fixture.Api.GetAsync("/api/events/987654321")).ReadProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task List_shows_upcoming_scheduled_events_soonest_first_with_filters_and_paging()
    {
        using var admin = await fixture.AdminAsync();
        var tag = Guid.NewGuid().ToString("N")[..12];
        var later = await admin.CreateEventAsync(TestApi.NewEventBody(name: $"{tag} later", startsInDays: 40));
        var soon = await admin.CreateEventAsync(TestApi.NewEventBody(name: $"{tag} soon", startsInDays: 10));
        var middle = await admin.CreateEventAsync(TestApi.NewEventBody(name: $"{tag} middle", startsInDays: 20));
        var cancelled = await admin.CreateEventAsync(TestApi.NewEventBody(name: $"{tag} cancelled", startsInDays: 15));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{cancelled.Id}")).StatusCode);
        await using (var db = fixture.CreateDbContext())
        {
            var past = await admin.CreateEventAsync(TestApi.NewEventBody(name: $"{tag} past", startsInDays: 5));
            await db.Events.Where(e => e.Id == past.Id).ExecuteUpdateAsync(e => e
                .SetProperty(x => x.StartsAt, DateTime.UtcNow.AddDays(-1))
                .SetProperty(x => x.EndsAt, DateTime.UtcNow.AddDays(-1).AddHours(2)));
        }

        var all = await fixture.Api.GetFromJsonAsync<PageDto<EventDto>>($"/api/events?q={tag}");
        Assert.Equal([soon.Id, middle.Id, later.Id], all!.Items.Select(e => e.Id));
        Assert.Equal(3, all.TotalCount);

        var page2 = await fixture.Api.GetFromJsonAsync<PageDto<EventDto>>($"/api/events?q={tag}&page=2&pageSize=2");
        Assert.Equal([later.Id], page2!.Items.Select(e => e.Id));
        Assert.Equal((2, 2, 3), (page2.Page, page2.PageSize, page2.TotalCount));

        var from = Uri.EscapeDataString(middle.StartsAt.AddHours(-1).ToString("O"));
        var to = Uri.EscapeDataString(later.StartsAt.AddHours(-1).ToString("O"));
        var ranged = await fixture.Api.GetFromJsonAsync<PageDto<EventDto>>($"/api/events?q={tag}&from={from}&to={to}");
        Assert.Equal([middle.Id], ranged!.Items.Select(e => e.Id));

        var byVenue = await fixture.Api.GetFromJsonAsync<PageDto<EventDto>>($"/api/events?q=Test%20Hall&pageSize=100");
        Assert.True(byVenue!.TotalCount >= 3);
    }

    [Theory]
    [InlineData("pageSize=101")]
    [InlineData("page=0")]
    [InlineData("from=yesterday")]
    [InlineData("page=300000000&pageSize=100")]
    public async Task List_rejects_bad_paging_and_filters(string query)
    {
        var response = await fixture.Api.GetAsync($"/api/events?{query}");
        await response.ReadProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Update_changes_the_event_and_the_cached_reads_show_it_at_once()
    {
        using var admin = await fixture.AdminAsync();
        var tag = Guid.NewGuid().ToString("N")[..12];
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(name: $"{tag} before"));

        // Warm the cache, and prove reads come from it: a change made behind the API's back does not show.
        await fixture.Api.GetAsync($"/api/events?q={tag}");
        await fixture.Api.GetAsync($"/api/events/{evt.Id}");
        await using (var db = fixture.CreateDbContext())
        {
            await db.Events.Where(e => e.Id == evt.Id).ExecuteUpdateAsync(e => e.SetProperty(x => x.Venue, "Behind the API's back"));
        }
        Assert.NotEqual("Behind the API's back", (await fixture.ReadEventAsync(evt.Id)).Venue);

        var update = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}",
            TestApi.NewEventBody(name: $"{tag} after", capacity: 120));
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        var updated = (await update.Content.ReadFromJsonAsync<EventDto>())!;
        Assert.Equal((120, $"{tag} after"), (updated.Capacity, updated.Name));
        Assert.True(updated.UpdatedAt >= evt.UpdatedAt);

        var list = await fixture.Api.GetFromJsonAsync<PageDto<EventDto>>($"/api/events?q={tag}");
        Assert.Equal($"{tag} after", Assert.Single(list!.Items).Name);
        var details = await fixture.Api.GetFromJsonAsync<EventDto>($"/api/events/{evt.Id}");
        Assert.Equal(120, details!.Capacity);
    }

    [Fact]
    public async Task Update_answers_404_400_and_403_as_the_contract_says()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync();

        await (await admin.Http.PutAsJsonAsync("/api/events/987654321", TestApi.NewEventBody())).ReadProblemAsync(HttpStatusCode.NotFound);
        var invalid = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.NewEventBody(capacity: 0));
        Assert.NotEmpty((await invalid.ReadProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("capacity"));
        await (await user.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.NewEventBody())).ReadProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Update_refuses_a_capacity_below_the_tickets_booked()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 10);
        await using (var db = fixture.CreateDbContext())
        {
            await db.Events.Where(e => e.Id == evt.Id).ExecuteUpdateAsync(e => e.SetProperty(x => x.Booked, 6));
        }

        var response = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.NewEventBody(capacity: 5));

        var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("capacity-below-booked", problem.Code());
        var ok = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.NewEventBody(capacity: 6));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Update_may_change_a_seat_layout_only_while_no_seat_is_booked()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 17, seating: TwoSections);
        var bigger = new { sections = new[] { new { name = "Stalls", rows = 4, seatsPerRow = 5 } } };

        var changed = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.NewEventBody(capacity: 20, seating: bigger));
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!;
        Assert.Equal(20, seats.Count);

        await using (var db = fixture.CreateDbContext())
        {
            await db.Seats.Where(s => s.Id == seats[0].Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Booked));
        }
        var locked = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.NewEventBody(capacity: 17, seating: TwoSections));
        Assert.Equal("seating-locked", (await locked.ReadProblemAsync(HttpStatusCode.Conflict)).Code());

        // A booking that was cancelled still refers to its seats: the layout stays locked.
        var other = await admin.CreateEventAsync(capacity: 17, seating: TwoSections);
        var otherSeats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{other.Id}/seats"))!;
        using var user = await fixture.NewUserAsync();
        var booking = await user.BookSeatsAsync(other.Id, [otherSeats[0].Id]).BookedAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await user.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
        var historic = await admin.Http.PutAsJsonAsync($"/api/events/{other.Id}", TestApi.NewEventBody(capacity: 20, seating: bigger));
        Assert.Equal("seating-locked", (await historic.ReadProblemAsync(HttpStatusCode.Conflict)).Code());

        // The same layout with other details still saves.
        var renamed = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}",
            TestApi.NewEventBody(name: "Renamed", capacity: 20, seating: bigger));
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
    }

    [Fact]
    public async Task Delete_cancels_the_event_and_takes_it_out_of_the_list()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var tag = Guid.NewGuid().ToString("N")[..12];
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(name: tag));
        await fixture.Api.GetAsync($"/api/events?q={tag}");

        await (await user.Http.DeleteAsync($"/api/events/{evt.Id}")).ReadProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);
        await (await admin.Http.DeleteAsync("/api/events/987654321")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal("cancelled", (await fixture.Api.GetFromJsonAsync<EventDto>($"/api/events/{evt.Id}"))!.Status);
        Assert.Empty((await fixture.Api.GetFromJsonAsync<PageDto<EventDto>>($"/api/events?q={tag}"))!.Items);
        var update = await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.NewEventBody());
        Assert.Equal("event-cancelled", (await update.ReadProblemAsync(HttpStatusCode.Conflict)).Code());
    }

    // The worker cancels a cancelled event's bookings in batches after the 204; its holders read them cancelled at once.
    [Fact]
    public async Task A_cancelled_events_bookings_read_cancelled_at_once_before_the_worker_reaches_them()
    {
        using var admin = await fixture.AdminAsync();
        using var holder = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 10);
        var booking = await holder.BookAsync(evt.Id, 2).BookedAsync();
        DateTime? cancelledAt;
        await using (await StoppedWorkers.StopAsync(fixture))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);

            var read = (await holder.Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{booking.Id}"))!;
            Assert.Equal("cancelled", read.Status);
            Assert.NotNull(read.CancelledAt);
            cancelledAt = read.CancelledAt;
            Assert.DoesNotContain((await holder.Http.GetFromJsonAsync<PageDto<BookingDto>>("/api/bookings?status=confirmed"))!.Items, b => b.Id == booking.Id);
            Assert.Contains((await holder.Http.GetFromJsonAsync<PageDto<BookingDto>>("/api/bookings?status=cancelled"))!.Items, b => b.Id == booking.Id);
            // Cancelling it is cancelling a cancelled booking: 204, and nothing changes (the worker still cancels it).
            Assert.Equal(HttpStatusCode.NoContent, (await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}")).StatusCode);
        }

        // The worker's cascade writes what was read: the same booking, cancelled at the same time, and the tickets back.
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            await using var db = fixture.CreateDbContext();
            return await db.Bookings.AnyAsync(b => b.Id == booking.Id && b.Status == Evently.Domain.Bookings.BookingStatus.Cancelled);
        }, TimeSpan.FromSeconds(30), "the worker's cancel of the event's bookings");
        var after = (await holder.Http.GetFromJsonAsync<BookingDto>($"/api/bookings/{booking.Id}"))!;
        Assert.Equal(("cancelled", cancelledAt), (after.Status, after.CancelledAt));
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 0);
    }

    [Fact]
    public async Task OpenApi_document_describes_the_endpoints_and_the_bearer_scheme()
    {
        var document = await fixture.Api.GetFromJsonAsync<System.Text.Json.JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/auth/register", "/api/auth/login", "/api/events", "/api/events/{id}", "/api/events/{id}/seats" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is documented");
        }
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("Bearer", out _));
        var create = paths.GetProperty("/api/events").GetProperty("post");
        Assert.Equal("Create an event (admin)", create.GetProperty("summary").GetString());
        Assert.True(create.GetProperty("responses").TryGetProperty("403", out _));
        Assert.True(create.GetProperty("responses").TryGetProperty("400", out _));
    }
}
