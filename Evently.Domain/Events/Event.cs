namespace Evently.Domain.Events;

public sealed class Event
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    public required string Venue { get; set; }
    public DateTime StartsAt { get; set; }
    public DateTime EndsAt { get; set; }
    public int Capacity { get; set; }

    // Tickets held by confirmed bookings: always the sum of their quantities, changed only under the event
    // row's lock by the writes that take or give back tickets (see Capacity).
    public int Booked { get; set; }

    // Tickets held for waitlist offers; not bookable by anyone else while the offer is open.
    public int Held { get; set; }

    // For the analytics: bookings of the event ever made, and those cancelled since, counted by the same
    // writes that change Booked (see BookingRollup).
    public int BookingsMade { get; set; }
    public int BookingsCancelled { get; set; }
    public EventStatus Status { get; set; } = EventStatus.Scheduled;
    public bool HasSeating { get; set; }
    public bool HighDemand { get; set; }

    // When bookings open (UTC); null: on sale now. Before it a normal event refuses bookings (not-on-sale) and a
    // high-demand one takes requests into its pre-queue, shuffled at the opening (see BookingQueue).
    public DateTime? SalesStartAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    // Concurrency token: bumped by every write to the row, so an update based on a stale read fails.
    public int Version { get; set; }

    public int Available => Evently.Domain.Events.Capacity.Free(Capacity, Booked, Held);

    public List<Seat> Seats { get; set; } = [];
}

public enum EventStatus
{
    Scheduled,
    Cancelled
}

public sealed class Seat
{
    public long Id { get; set; }
    public long EventId { get; set; }
    public required string Section { get; set; }
    public required string Row { get; set; }
    public int Number { get; set; }
    public SeatStatus Status { get; set; } = SeatStatus.Available;
}

public enum SeatStatus
{
    Available,
    Held,
    Booked
}
