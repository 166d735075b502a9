using System.Net.Http.Headers;
using System.Text.Json;

namespace Evently.Tests.Infrastructure;

public sealed record UserDto(long Id, string Email, string Name, string Role);
public sealed record LoginDto(string AccessToken, DateTime ExpiresAt, UserDto User);
public sealed record EventDto(
    long Id, string Name, string Venue, DateTime StartsAt, DateTime EndsAt, int Capacity, int Booked, int Available,
    string Status, bool HasSeating, bool HighDemand, string? Description, DateTime CreatedAt, DateTime UpdatedAt);
public sealed record PageDto<T>(List<T> Items, int Page, int PageSize, int TotalCount);
public sealed record SeatDto(long Id, string Section, string Row, int Number, string Status);

/// <summary>A logged-in HTTP client for one user of the app under test.</summary>
public sealed record Caller(HttpClient Http, UserDto User) : IDisposable
{
    public void Dispose() => Http.Dispose();
}

// Test helpers that speak the HTTP contract. Each test makes its own users and events.
public static class TestApi
{
    public const string AdminEmail = "admin@evently.local";
    public const string AdminPassword = "evently-admin-dev";

    public static string UniqueEmail(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    public static async Task<Caller> NewUserAsync(this EventlyAppFixture fixture, string name = "Test User")
    {
        var email = UniqueEmail();
        var (register, retried) = await PostAsCarefulClientAsync(fixture.Api, "/api/auth/register", new { email, password = "password123", name });
        // A retry meets the account its first try made, if that try's answer was the one lost.
        Assert.True(register.StatusCode == HttpStatusCode.Created || (retried && register.StatusCode == HttpStatusCode.Conflict),
            $"register: {register.StatusCode} {await register.Content.ReadAsStringAsync()}");
        return await fixture.LoginAsync(email, "password123");
    }

    public static Task<Caller> AdminAsync(this EventlyAppFixture fixture) => fixture.LoginAsync(AdminEmail, AdminPassword);

    public static async Task<Caller> LoginAsync(this EventlyAppFixture fixture, string email, string password)
    {
        var (response, _) = await PostAsCarefulClientAsync(fixture.Api, "/api/auth/login", new { email, password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var login = (await response.Content.ReadFromJsonAsync<LoginDto>())!;
        var http = fixture.CreateApiClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login.AccessToken);
        return new Caller(http, login.User);
    }

    /// <summary>
    /// Setting up a test's users and events as a careful client would: a 503 (the request's deadline passed, as on a
    /// machine busy starting other tests' apps while a test registers a dozen users, each a password hash of tens of
    /// milliseconds, or a cold app creates its first event) is sent again after its Retry-After, twice at most, with
    /// the same Idempotency-Key if one is given.
    /// </summary>
    private static async Task<(HttpResponseMessage Response, bool Retried)> PostAsCarefulClientAsync(
        HttpClient http, string path, object body, string? idempotencyKey = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }
            var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 3)
            {
                return (response, attempt > 1);
            }
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
    }

    public static object NewEventBody(string? name = null, int capacity = 100, int startsInDays = 30,
        object? seating = null, bool highDemand = false)
    {
        var startsAt = DateTime.UtcNow.Date.AddDays(startsInDays).AddHours(19);
        return new
        {
            name = name ?? $"Event {Guid.NewGuid():N}",
            description = "A test event",
            venue = "Test Hall",
            startsAt,
            endsAt = startsAt.AddHours(3),
            capacity,
            highDemand,
            seating
        };
    }

    /// <summary>A copy of an event body (from <see cref="NewEventBody"/>) with one property changed, for PUT.</summary>
    public static Dictionary<string, object?> With(object body, string property, object value)
    {
        var copy = body.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(body));
        copy[property] = value;
        return copy;
    }

    public static async Task<EventDto> CreateEventAsync(this Caller admin, object body)
    {
        var (response, _) = await PostAsCarefulClientAsync(admin.Http, "/api/events", body, idempotencyKey: Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EventDto>())!;
    }

    public static Task<EventDto> CreateEventAsync(this Caller admin, int capacity = 100, object? seating = null) =>
        admin.CreateEventAsync(NewEventBody(capacity: capacity, seating: seating));

    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("title", out _), "problem details carry a title");
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()), "problem details carry a detail");
        return problem;
    }

    public static string[] FieldErrors(this JsonElement problem, string field) =>
        problem.GetProperty("errors").TryGetProperty(field, out var messages)
            ? messages.EnumerateArray().Select(m => m.GetString()!).ToArray()
            : [];

    public static string? Code(this JsonElement problem) =>
        problem.TryGetProperty("code", out var code) ? code.GetString() : null;
}

public sealed record BookedSeatDto(long Id, string Section, string Row, int Number);
public sealed record BookingDto(
    long Id, long EventId, string EventName, int Quantity, List<BookedSeatDto> Seats, string Status,
    DateTime CreatedAt, DateTime? CancelledAt);

public static class BookingTestApi
{
    public static Task<HttpResponseMessage> BookAsync(this Caller caller, long eventId, int quantity, string? idempotencyKey = null) =>
        caller.PostBookingAsync(new { eventId, quantity }, idempotencyKey);

    public static Task<HttpResponseMessage> BookSeatsAsync(this Caller caller, long eventId, IEnumerable<long> seatIds) =>
        caller.PostBookingAsync(new { eventId, seatIds }, null);

    public static async Task<HttpResponseMessage> PostBookingAsync(this Caller caller, object body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/bookings") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return await caller.Http.SendAsync(request);
    }

    public static async Task<BookingDto> BookedAsync(this Task<HttpResponseMessage> booking)
    {
        var response = await booking;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<BookingDto>())!;
    }

    public static async Task<EventDto> ReadEventAsync(this EventlyAppFixture fixture, long id) =>
        (await fixture.Api.GetFromJsonAsync<EventDto>($"/api/events/{id}"))!;

    /// <summary>Counts and seat statuses in event reads may lag bookings by up to a second (API.md, "Freshness").</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);

    /// <summary>Reads the event until it shows what a booking or cancel did, failing if that takes longer than <see cref="Freshness"/>.</summary>
    public static Task<EventDto> ReadEventOnceFreshAsync(this EventlyAppFixture fixture, long id, Func<EventDto, bool> shows) =>
        ReadUntilAsync(() => fixture.ReadEventAsync(id), shows, $"event {id}");

    /// <summary>Reads the event's seats until they show what a booking or cancel did, within <see cref="Freshness"/>.</summary>
    public static Task<List<SeatDto>> ReadSeatsOnceFreshAsync(this EventlyAppFixture fixture, long id, Func<List<SeatDto>, bool> shows) =>
        ReadUntilAsync(async () => (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{id}/seats"))!, shows, $"the seats of event {id}");

    private static async Task<T> ReadUntilAsync<T>(Func<Task<T>> read, Func<T, bool> shows, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (shows(value))
            {
                return value;
            }
            Assert.True(watch.Elapsed < Freshness, $"{what} did not show the change within {Freshness.TotalSeconds} s");
            await Task.Delay(20);
        }
    }
}
