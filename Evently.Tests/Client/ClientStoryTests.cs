using Evently.Tests.Client.Api.Bookings;
using Evently.Tests.Client.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace Evently.Tests.Client;

/// <summary>
/// The whole contract walked through the client that Kiota generated from the served document, used as
/// generated: every id a long, every answer a typed model, every refusal a typed problem.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ClientStoryTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task A_user_and_an_admin_walk_the_whole_contract_through_the_generated_client()
    {
        using var anonymous = fixture.CreateKiotaCaller();
        var api = anonymous.Client.Api;

        // Register and log in.
        var email = TestApi.UniqueEmail("kiota");
        var registered = await api.Auth.Register.PostAsync(new RegisterRequest { Email = email, Password = "password123", Name = "Kiota Reader" });
        long userId = registered!.Id!.Value;
        Assert.Equal((email, UserResponse_role.User), (registered.Email, registered.Role));
        var taken = await Assert.ThrowsAsync<ProblemDetails>(() =>
            api.Auth.Register.PostAsync(new RegisterRequest { Email = email, Password = "password123", Name = "Again" }));
        Assert.Equal(409, taken.ResponseStatusCode);
        var wrong = await Assert.ThrowsAsync<ProblemDetails>(() => api.Auth.Login.PostAsync(new LoginRequest { Email = email, Password = "wrong-password" }));
        Assert.Equal(401, wrong.Status);
        using var user = await fixture.KiotaLoginAsync(email, "password123");
        Assert.Equal(userId, user.User!.Id);
        using var admin = await fixture.KiotaLoginAsync(TestApi.AdminEmail, TestApi.AdminPassword);
        using var holder = await NewUserAsync();

        // An admin creates a seated event, a plain one and a high-demand one; the answer says where each lives.
        var tag = $"kiota-{Guid.NewGuid():N}";
        var startsAt = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(25).AddHours(19), TimeSpan.Zero);
        var seatedLocation = new HeadersInspectionHandlerOption { InspectResponseHeaders = true };
        var seated = await admin.Client.Api.Events.PostAsync(EventBody($"{tag} seated", startsAt, capacity: 6,
            new SeatingRequest { Sections = [new SeatSectionRequest { Name = "Stalls", Rows = 2, SeatsPerRow = 3 }] }),
            c => c.Options.Add(seatedLocation));
        long seatedId = seated!.Id!.Value;
        Assert.Equal($"/api/events/{seatedId}", Assert.Single(seatedLocation.ResponseHeaders["Location"]));
        var plain = await admin.Client.Api.Events.PostAsync(EventBody($"{tag} plain", startsAt.AddDays(1), capacity: 2));
        var busy = await admin.Client.Api.Events.PostAsync(EventBody($"{tag} busy", startsAt.AddDays(2), capacity: 5, highDemand: true));
        var refused = await Assert.ThrowsAsync<HttpValidationProblemDetails>(() =>
            admin.Client.Api.Events.PostAsync(EventBody("", startsAt, capacity: 0)));
        Assert.Contains("capacity", refused.Errors!.AdditionalData.Keys);
        await Assert.ThrowsAsync<ProblemDetails>(() => user.Client.Api.Events.PostAsync(EventBody(tag, startsAt, 1)));

        // Anyone browses with filters; the seated event's seats are listed.
        var page = await api.Events.GetAsync(c =>
        {
            c.QueryParameters.Q = tag;
            c.QueryParameters.From = startsAt.AddHours(-1);
            c.QueryParameters.To = startsAt.AddDays(1).AddHours(1);
            c.QueryParameters.Page = 1;
            c.QueryParameters.PageSize = 10;
        });
        Assert.Equal(new[] { seatedId, plain!.Id!.Value }, page!.Items!.Select(e => e.Id!.Value));
        Assert.Equal((2, 1, 10), (page.TotalCount, page.Page, page.PageSize));
        var read = await api.Events[seatedId].GetAsync();
        Assert.Equal((EventStatus.Scheduled, true, 6), (read!.Status, read.HasSeating, read.Available));
        var seats = (await api.Events[seatedId].Seats.GetAsync())!;
        Assert.Equal(6, seats.Count);
        Assert.All(seats, s => Assert.Equal((SeatStatus.Available, "Stalls"), (s.Status, s.Section)));
        Assert.Empty((await api.Events[plain.Id!.Value].Seats.GetAsync())!);
        await Assert.ThrowsAsync<ProblemDetails>(() => api.Events[987654321].GetAsync());

        // Book a quantity, and seats; change the seats; cancel.
        var tickets = await holder.Client.Api.Bookings.PostAsync(new CreateBookingRequest { EventId = plain.Id, Quantity = 2 });
        Assert.Equal((plain.Id, 2, BookingStatus.Confirmed), (tickets!.EventId, tickets.Quantity, tickets.Status));
        var chosen = await user.Client.Api.Bookings.PostAsync(new CreateBookingRequest { EventId = seatedId, SeatIds = [seats[0].Id, seats[1].Id] });
        long chosenId = chosen!.Id!.Value;
        Assert.Equal(new[] { seats[0].Id, seats[1].Id }, chosen.Seats!.Select(s => s.Id));
        var taken2 = await Assert.ThrowsAsync<ProblemDetails>(() =>
            holder.Client.Api.Bookings.PostAsync(new CreateBookingRequest { EventId = seatedId, SeatIds = [seats[1].Id] }));
        Assert.Equal("seat-taken", taken2.Code);
        var notAnId = await Assert.ThrowsAsync<HttpValidationProblemDetails>(() =>
            user.Client.Api.Bookings.PostAsync(new CreateBookingRequest { EventId = 0, Quantity = 1 }));
        Assert.Contains("eventId", notAnId.Errors!.AdditionalData.Keys);
        Assert.Equal(404, (await Assert.ThrowsAsync<ProblemDetails>(() =>
            user.Client.Api.Bookings.PostAsync(new CreateBookingRequest { EventId = 987654321, Quantity = 1 }))).Status);
        var moved = await user.Client.Api.Bookings[chosenId].Seats.PostAsync(new ChangeSeatsRequest { SeatIds = [seats[4].Id, seats[5].Id] });
        Assert.Equal(new[] { seats[4].Id, seats[5].Id }, moved!.Seats!.Select(s => s.Id));
        var mine = await user.Client.Api.Bookings.GetAsync(c => c.QueryParameters.Status = GetStatusQueryParameterType.Confirmed);
        Assert.Equal(chosenId, Assert.Single(mine!.Items!).Id);
        await user.Client.Api.Bookings[chosenId].DeleteAsync();
        var cancelled = await user.Client.Api.Bookings[chosenId].GetAsync();
        Assert.Equal(BookingStatus.Cancelled, cancelled!.Status);
        Assert.NotNull(cancelled.CancelledAt);

        // The plain event is sold out: join its waitlist; a cancel offers the tickets, which the waiter claims.
        var soldOut = await Assert.ThrowsAsync<ProblemDetails>(() =>
            user.Client.Api.Bookings.PostAsync(new CreateBookingRequest { EventId = plain.Id, Quantity = 1 }));
        Assert.Equal((409, "sold-out"), (soldOut.Status, soldOut.Code));
        var joinLocation = new HeadersInspectionHandlerOption { InspectResponseHeaders = true };
        var entry = await user.Client.Api.Waitlist.PostAsync(new JoinWaitlistRequest { EventId = plain.Id, Quantity = 1 },
            c => c.Options.Add(joinLocation));
        long entryId = entry!.Id!.Value;
        Assert.Equal((WaitlistStatus.Waiting, 1), (entry.Status, entry.Position));
        Assert.Equal($"/api/waitlist/{entryId}", Assert.Single(joinLocation.ResponseHeaders["Location"]));
        await holder.Client.Api.Bookings[tickets.Id!.Value].DeleteAsync();
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            var entries = await user.Client.Api.Waitlist.GetAsync(c => c.QueryParameters.EventId = plain.Id);
            return Assert.Single(entries!.Items!).Status == WaitlistStatus.Offered;
        }, TimeSpan.FromSeconds(3), "the waitlist offer");
        var claimed = await user.Client.Api.Waitlist[entryId].Claim.PostAsync();
        Assert.Equal((plain.Id, 1, BookingStatus.Confirmed), (claimed!.EventId, claimed.Quantity, claimed.Status));

        // The offer was notified; mark it read.
        var offer = Assert.Single((await user.Client.Api.Notifications.GetAsync(c => c.QueryParameters.PageSize = 50))!.Items!,
            n => n.Kind == NotificationResponse_kind.WaitlistOffer);
        Assert.Equal(plain.Id, offer.EventId);
        await user.Client.Api.Notifications[offer.Id!.Value].Read.PostAsync();
        Assert.NotNull(Assert.Single((await user.Client.Api.Notifications.GetAsync())!.Items!, n => n.Id == offer.Id).ReadAt);

        // A high-demand event answers 202 with a request to poll until it is answered.
        var queued = await BookQueuedAsync(user, new CreateBookingRequest { EventId = busy!.Id, Quantity = 2 });
        Assert.Equal((busy.Id, 2, BookingRequestStatus.Queued), (queued.EventId, queued.Quantity, queued.Status));
        BookingRequestResponse? answer = null;
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            answer = await user.Client.Api.Bookings.Requests[queued.RequestId!.Value].GetAsync();
            return answer!.Status != BookingRequestStatus.Queued;
        }, TimeSpan.FromSeconds(30), "the answer to the queued request");
        Assert.Equal(BookingRequestStatus.Confirmed, answer!.Status);
        var queuedBooking = await user.Client.Api.Bookings[answer.BookingId!.Value].GetAsync();
        Assert.Equal((busy.Id, 2), (queuedBooking!.EventId, queuedBooking.Quantity));

        // The admin's three analytics, computed afresh.
        var today = DateTime.UtcNow.Date;
        var daily = await admin.Client.Api.Analytics.Bookings.GetAsync(c =>
        {
            c.QueryParameters.From = new Date(today.AddDays(-6));
            c.QueryParameters.To = new Date(today);
            c.Headers.Add("Cache-Control", "no-cache");
        });
        Assert.Equal(7, daily!.Daily!.Count);
        Assert.Equal(new Date(today), daily.Daily[^1].Date);
        Assert.True(daily.TotalBookings >= 4 && daily.TotalBookings == daily.ConfirmedBookings + daily.CancelledBookings);
        var top = await admin.Client.Api.Analytics.Events.GetAsync(c =>
        {
            c.QueryParameters.Top = 100;
            c.Headers.Add("Cache-Control", "no-cache");
        });
        Assert.InRange(top!.Count, 1, 100);
        Assert.All(top, e => Assert.InRange(e.Utilization!.Value, 0, 1));
        var utilization = await admin.Client.Api.Analytics.Utilization.GetAsync(c => c.Headers.Add("Cache-Control", "no-cache"));
        var plainUse = Assert.Single(utilization!.Events!, e => e.EventId == plain.Id);
        Assert.Equal((2, 1, 0.5), (plainUse.Capacity, plainUse.Booked, plainUse.Utilization));
        await Assert.ThrowsAsync<ProblemDetails>(() => user.Client.Api.Analytics.Utilization.GetAsync());
    }

    private async Task<KiotaCaller> NewUserAsync()
    {
        var email = TestApi.UniqueEmail("kiota");
        using var anonymous = fixture.CreateKiotaCaller();
        await anonymous.Client.Api.Auth.Register.PostAsync(new RegisterRequest { Email = email, Password = "password123", Name = "Holder" });
        return await fixture.KiotaLoginAsync(email, "password123");
    }

    private static CreateEventRequest EventBody(string name, DateTimeOffset startsAt, int capacity, SeatingRequest? seating = null,
        bool? highDemand = null) => new()
    {
        Name = name,
        Venue = "Kiota Hall",
        Description = "Booked through the generated client",
        StartsAt = startsAt,
        EndsAt = startsAt.AddHours(3),
        Capacity = capacity,
        HighDemand = highDemand,
        Seating = seating
    };

    // POST /api/bookings has two success shapes and Kiota types the first (201 Booking): a queued request's
    // 202 is read from the raw answer, its body with the generated BookingRequestResponse.
    private static async Task<BookingRequestResponse> BookQueuedAsync(KiotaCaller caller, CreateBookingRequest body)
    {
        var native = new NativeResponseHandler();
        await caller.Client.Api.Bookings.PostAsync(body, c => c.Options.Add(new ResponseHandlerOption { ResponseHandler = native }));
        using var response = (HttpResponseMessage)native.Value!;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var request = await KiotaJsonSerializer.DeserializeAsync(await response.Content.ReadAsStringAsync(),
            BookingRequestResponse.CreateFromDiscriminatorValue);
        Assert.Equal($"/api/bookings/requests/{request!.RequestId}", response.Headers.Location?.OriginalString);
        return request;
    }
}
