using System.Collections.Concurrent;

namespace Evently.Soak.Workload;

/// <summary>A registered user of the soak, pinned to one way into the API (the AppHost's replicas, or the extra replica).</summary>
internal sealed class SoakUser(int index, long id, string email, string token, HttpClient http)
{
    public int Index { get; } = index;
    public long Id { get; } = id;
    public string Email { get; } = email;
    public string Token { get; } = token;
    public HttpClient Http { get; } = http;

    /// <summary>Confirmed bookings the user was told of and has not cancelled: what it may cancel or change.</summary>
    public ConcurrentDictionary<long, OwnBooking> Bookings { get; } = new();

    private int _keys;

    /// <summary>A fresh Idempotency-Key: unique per user and run, at most 64 characters.</summary>
    public string NewKey(string purpose) => $"soak-{purpose}-u{Index}-{Interlocked.Increment(ref _keys)}";
}

internal sealed record OwnBooking(long Id, long EventId, int Quantity, bool Seated);

internal enum EventKind
{
    Regular,
    Seated,
    OnSale
}

/// <summary>An event the soak created, with what a PUT must send again (the API takes the whole event).</summary>
internal sealed class SoakEvent(long id, EventKind kind, string name, DateTimeOffset startsAt, int capacity, int? seatRows)
{
    public const int SeatsPerRow = 5;
    public static readonly string[] Sections = ["Stalls", "Circle"];

    public long Id { get; } = id;
    public EventKind Kind { get; } = kind;
    public string Name { get; } = name;
    public DateTimeOffset StartsAt { get; set; } = startsAt;
    public string Venue { get; set; } = "Soak Arena";
    public int Capacity { get; set; } = capacity;
    public int? SeatRows { get; } = seatRows;
    public volatile bool Cancelled;

    /// <summary>Last seen with no ticket free (a 409 sold-out, or a read): a waitlist is worth joining.</summary>
    public volatile bool SoldOut;

    public static object Body(string name, string venue, DateTimeOffset startsAt, int capacity, int? seatRows, bool highDemand) => new
    {
        name,
        description = "Made by the chaos soak.",
        venue,
        startsAt,
        endsAt = startsAt.AddHours(3),
        capacity,
        highDemand,
        seating = seatRows is { } rows ? new { sections = Sections.Select(s => new { name = s, rows, seatsPerRow = SeatsPerRow }) } : null
    };

    public object Body() => Body(Name, Venue, StartsAt, Capacity, SeatRows, Kind == EventKind.OnSale);
}

/// <summary>What the actors share: the users and the events.</summary>
internal sealed class Catalog(IReadOnlyList<SoakUser> users)
{
    public IReadOnlyList<SoakUser> Users { get; } = users;
    public ConcurrentDictionary<long, SoakEvent> Events { get; } = new();

    public SoakEvent? Pick(Random random, Func<SoakEvent, bool> where)
    {
        var matching = Events.Values.Where(e => !e.Cancelled && where(e)).ToList();
        return matching.Count == 0 ? null : matching[random.Next(matching.Count)];
    }

    public SoakUser User(Random random) => Users[random.Next(Users.Count)];
}
