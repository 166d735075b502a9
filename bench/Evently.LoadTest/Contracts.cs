namespace Evently.LoadTest;

// The slices of the API contract the benchmark sends and reads (JSON is camelCase).

internal sealed record RegisterRequest(string Email, string Password, string Name);

internal sealed record LoginRequest(string Email, string Password);

internal sealed record LoginResponse(string AccessToken);

internal sealed record CreateEventRequest(
    string Name, string Description, string Venue, DateTimeOffset StartsAt, DateTimeOffset EndsAt, int Capacity,
    bool HighDemand = false, DateTimeOffset? SalesStartAt = null);

internal sealed record EventResponse(long Id, string Name, int Capacity, int Booked);

internal sealed record EventPage(IReadOnlyList<EventResponse> Items, int TotalCount);

internal sealed record BookingRequest(long EventId, int Quantity);

internal sealed record BookingResponse(long Id);

internal sealed record BookingRequestResponse(long RequestId, string Status);
