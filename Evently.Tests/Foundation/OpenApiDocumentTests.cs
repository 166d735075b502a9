using System.Net.Http.Headers;
using System.Text;

namespace Evently.Tests.Foundation;

/// <summary>
/// The served OpenAPI document must describe the API exactly: every request the suite sends and every
/// answer it gets is checked against it, as a validator replaying real traffic would.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class OpenApiDocumentTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task The_document_describes_every_request_and_answer_of_the_contract()
    {
        var first = fixture.Traffic.Exchanges.Count;
        await ExerciseTheContractAsync();
        var validator = new OpenApiValidator(await fixture.Api.GetStringAsync("/openapi/v1.json"));

        // This test's own walk through the contract, then whatever the rest of the suite sent so far.
        var exchanges = fixture.Traffic.Exchanges.ToList();
        Assert.True(exchanges.Count - first >= 30, "the walk through the contract was recorded");
        var violations = exchanges.SelectMany(validator.Check).Distinct().ToList();

        Assert.True(violations.Count == 0, string.Join("\n", violations.Take(20)));
    }

    [Fact]
    public async Task The_validator_catches_what_a_wrong_document_would_let_through()
    {
        var validator = new OpenApiValidator(await fixture.Api.GetStringAsync("/openapi/v1.json"));

        // The faults of the old document, as traffic that the served one must refuse to describe.
        Assert.Contains(validator.Check(new Exchange("GET", "/api/events", "?Page=1", null, null, 200, "application/json",
            """{"items":[],"page":1,"pageSize":20,"totalCount":0}""")), v => v.Contains("'Page'"));
        Assert.Contains(validator.Check(new Exchange("POST", "/api/bookings", "", "application/json", """{"eventId":"1","quantity":"2"}""",
            201, null, null, "/api/bookings/1")), v => v.Contains("request body"));
        Assert.Contains(validator.Check(new Exchange("POST", "/api/bookings", "", "application/json", """{"eventId":null,"quantity":2}""",
            201, null, null, "/api/bookings/1")), v => v.Contains("request body"));
        Assert.Contains(validator.Check(new Exchange("POST", "/api/events", "", null, null, 201, null, null)), v => v.Contains("no Location"));
        Assert.Contains(validator.Check(new Exchange("POST", "/api/auth/register", "", null, null, 201, null, null, "/api/users/1")),
            v => v.Contains("Location header (/api/users/1) is not documented"));
        Assert.Contains(validator.Check(new Exchange("DELETE", "/api/bookings/1", "", null, null, 418, null, null)),
            v => v.Contains("status 418"));
        Assert.Contains(validator.Check(new Exchange("GET", "/api/events/1", "", null, null, 200, "application/json",
            """{"id":"not a number"}""")), v => v.Contains("answer"));
        Assert.Empty(validator.Check(new Exchange("POST", "/api/bookings", "", "application/json",
            """{"eventId":1,"seatIds":[1,2]}""", 409, "application/problem+json",
            """{"type":"https://evently.dev/problems/seat-taken","title":"Seat taken","status":409,"detail":"x","code":"seat-taken"}""")));
    }

    // Every route, with the optional fields left out and the alternatives taken one at a time, and the
    // answers a client must be ready for: problems of every documented kind.
    private async Task ExerciseTheContractAsync()
    {
        var api = fixture.Api;
        var email = TestApi.UniqueEmail();
        await api.PostAsJsonAsync("/api/auth/register", new { email, password = "password123", name = "Doc Reader" });
        await api.PostAsJsonAsync("/api/auth/register", new { email, password = "password123", name = "Again" });
        await api.PostAsJsonAsync("/api/auth/register", new { email = "not-an-email", password = "short", name = "" });
        await api.PostAsJsonAsync("/api/auth/login", new { email, password = "wrong-password" });
        using var user = await fixture.LoginAsync(email, "password123");
        using var admin = await fixture.AdminAsync();

        var minimal = new
        {
            name = "Minimal", venue = "Hall", startsAt = DateTime.UtcNow.Date.AddDays(20).AddHours(19),
            endsAt = DateTime.UtcNow.Date.AddDays(20).AddHours(22), capacity = 3
        };
        var plain = await admin.CreateEventAsync(minimal);
        var seated = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 4,
            seating: new { sections = new[] { new { name = "Box", rows = 1, seatsPerRow = 4 } } }));
        await admin.Http.PostAsJsonAsync("/api/events", new { name = "", capacity = 0 });
        await user.Http.PostAsJsonAsync("/api/events", minimal);
        await admin.Http.PutAsJsonAsync($"/api/events/{plain.Id}", minimal with { capacity = 5 });
        await admin.Http.PutAsJsonAsync("/api/events/987654321", minimal);

        var from = Uri.EscapeDataString(DateTime.UtcNow.ToString("O"));
        await api.GetAsync($"/api/events?page=1&pageSize=5&q=Minimal&from={from}&to={Uri.EscapeDataString(DateTime.UtcNow.AddYears(1).ToString("O"))}");
        await api.GetAsync("/api/events?pageSize=500");
        await api.GetAsync($"/api/events/{plain.Id}");
        await api.GetAsync("/api/events/987654321");
        var seats = (await api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{seated.Id}/seats"))!;
        await api.GetAsync($"/api/events/{plain.Id}/seats");

        var booking = await user.BookAsync(plain.Id, 2, idempotencyKey: Guid.NewGuid().ToString()).BookedAsync();
        await user.BookAsync(plain.Id, 10);
        var seatBooking = await user.BookSeatsAsync(seated.Id, [seats[0].Id]).BookedAsync();
        await user.BookSeatsAsync(seated.Id, [seats[0].Id]);
        await user.PostBookingAsync(new { eventId = plain.Id }, null);
        await user.BookAsync(987654321, 1);
        await api.PostAsJsonAsync("/api/bookings", new { eventId = plain.Id, quantity = 1 });
        await user.Http.PostAsync("/api/bookings", new StringContent("{ not json", Encoding.UTF8, "application/json"));
        await user.Http.PostAsync("/api/bookings", new StringContent("eventId=1", Encoding.UTF8, "text/plain"));

        await user.Http.GetAsync("/api/bookings?page=1&pageSize=10&status=confirmed");
        await user.Http.GetAsync("/api/bookings?status=lost");
        await user.Http.GetAsync($"/api/bookings/{booking.Id}");
        await user.Http.GetAsync("/api/bookings/987654321");
        await user.Http.PostAsJsonAsync($"/api/bookings/{seatBooking.Id}/seats", new { seatIds = new[] { seats[1].Id } });
        await user.Http.PostAsJsonAsync($"/api/bookings/{seatBooking.Id}/seats", new { seatIds = new[] { seats[1].Id, seats[2].Id } });
        await user.Http.DeleteAsync($"/api/bookings/{booking.Id}");
        await user.Http.DeleteAsync($"/api/bookings/{booking.Id}");
        await admin.Http.DeleteAsync($"/api/events/{seated.Id}");
        await user.Http.DeleteAsync($"/api/events/{plain.Id}");

        await admin.Http.GetAsync("/api/analytics/bookings");
        await admin.Http.GetAsync("/api/analytics/bookings?from=2027-03-01&to=2027-03-31");
        await admin.Http.GetAsync("/api/analytics/bookings?from=2027-03-10&to=2027-03-09");
        await admin.Http.GetAsync("/api/analytics/bookings?from=not-a-day");
        await admin.Http.GetAsync("/api/analytics/events?top=5");
        await admin.Http.GetAsync("/api/analytics/events?top=500");
        await admin.Http.GetAsync("/api/analytics/utilization");
        await user.Http.GetAsync("/api/analytics/utilization");
        await api.GetAsync("/api/analytics/events");

        using var anonymous = fixture.CreateApiClient();
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        await anonymous.GetAsync("/api/bookings");
    }
}
