using System.Net.Http.Headers;

namespace Evently.LoadTest;

/// <summary>Typed calls to the Evently HTTP API: strict ones for seeding and checking, tolerant ones for load.</summary>
internal sealed class EventlyApi(HttpClient http)
{
    /// <summary>Status code of a load request when no response arrived (timeout, broken connection).</summary>
    public const int NoResponse = 0;

    public async Task<string> LoginAsync(string email, string password)
    {
        var response = await http.PostAsJsonAsync("/api/auth/login", new LoginRequest(email, password));
        return (await ReadAsync<LoginResponse>(response)).AccessToken;
    }

    public async Task RegisterAsync(string email, string password, string name)
    {
        using var response = await http.PostAsJsonAsync("/api/auth/register", new RegisterRequest(email, password, name));
        await EnsureSuccessAsync(response);
    }

    public async Task<EventResponse> CreateEventAsync(string adminToken, CreateEventRequest body)
    {
        using var request = Request(HttpMethod.Post, "/api/events", adminToken, body);
        return await ReadAsync<EventResponse>(await http.SendAsync(request));
    }

    public async Task<EventResponse> GetEventAsync(long id)
    {
        // Event details are output-cached; a query string the API ignores makes every read a cache miss.
        var response = await http.GetAsync($"/api/events/{id}?fresh={Guid.NewGuid():N}");
        return await ReadAsync<EventResponse>(response);
    }

    public Task<int> AliveAsync() => TrySendAsync(new HttpRequestMessage(HttpMethod.Get, "/alive"));

    /// <summary>An anonymous GET of a path as a browser would send it (cached reads included): its status only.</summary>
    public Task<int> ReadAsync(string path) => TrySendAsync(new HttpRequestMessage(HttpMethod.Get, path));

    /// <summary><c>booked</c> of an event as <c>GET /api/events/{id}</c> answers it (cache included); null on any failure.</summary>
    public async Task<int?> TryReadBookedAsync(long eventId)
    {
        var evt = await TryReadAsync<EventResponse>($"/api/events/{eventId}");
        return evt?.Booked;
    }

    /// <summary><c>booked</c> of an event as a page of <c>GET /api/events</c> shows it; null on any failure or when it is not on the page.</summary>
    public async Task<int?> TryReadBookedInListAsync(string listPath, long eventId)
    {
        var page = await TryReadAsync<EventPage>(listPath);
        return page?.Items.FirstOrDefault(e => e.Id == eventId)?.Booked;
    }

    private async Task<T?> TryReadAsync<T>(string path) where T : class
    {
        try
        {
            using var response = await http.GetAsync(path);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<T>() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public Task<int> BookAsync(string userToken, long eventId) =>
        TrySendAsync(Request(HttpMethod.Post, "/api/bookings", userToken, new BookingRequest(eventId, Quantity: 1)));

    /// <summary>A booking of one ticket: its status, and its id when it was made.</summary>
    public async Task<(int Status, long? BookingId)> BookForIdAsync(string userToken, long eventId)
    {
        using var request = Request(HttpMethod.Post, "/api/bookings", userToken, new BookingRequest(eventId, Quantity: 1));
        try
        {
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode,
                response.StatusCode == System.Net.HttpStatusCode.Created ? (await response.Content.ReadFromJsonAsync<BookingResponse>())!.Id : null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return (NoResponse, null);
        }
    }

    public Task<int> CancelAsync(string userToken, long bookingId) =>
        TrySendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/api/bookings/{bookingId}")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", userToken) }
        });

    /// <summary>A request of one ticket of a high-demand event: its status, and its request's id when it was queued (202).</summary>
    public async Task<(int Status, long? RequestId)> QueueForIdAsync(string userToken, long eventId)
    {
        using var request = Request(HttpMethod.Post, "/api/bookings", userToken, new BookingRequest(eventId, Quantity: 1));
        try
        {
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode,
                response.StatusCode == System.Net.HttpStatusCode.Accepted ? (await response.Content.ReadFromJsonAsync<BookingRequestResponse>())!.RequestId : null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return (NoResponse, null);
        }
    }

    public async Task UpdateEventAsync(string adminToken, long id, CreateEventRequest body) =>
        await EnsureSuccessAsync(await http.SendAsync(Request(HttpMethod.Put, $"/api/events/{id}", adminToken, body)));

    public Task<int> QueueBookingAsync(string userToken, long eventId) =>
        TrySendAsync(Request(HttpMethod.Post, "/api/bookings", userToken, new BookingRequest(eventId, Quantity: 1)));

    private async Task<int> TrySendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            try
            {
                using var response = await http.SendAsync(request);
                return (int)response.StatusCode;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return NoResponse;
            }
        }
    }

    private static HttpRequestMessage Request<T>(HttpMethod method, string path, string bearerToken, T body) => new(method, path)
    {
        Content = JsonContent.Create(body),
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", bearerToken) }
    };

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        using (response)
        {
            await EnsureSuccessAsync(response);
            return await response.Content.ReadFromJsonAsync<T>()
                ?? throw new InvalidOperationException($"{response.RequestMessage?.RequestUri} returned an empty body.");
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new InvalidOperationException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} -> {(int)response.StatusCode}: {body}");
        }
    }
}
