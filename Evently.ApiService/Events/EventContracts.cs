using System.ComponentModel;
using Evently.Domain.Events;
using Microsoft.AspNetCore.Mvc;

namespace Evently.ApiService.Events;

/// <summary>Body of POST and PUT /api/events.</summary>
public sealed record CreateEventRequest(
    string? Name,
    string? Venue,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    int? Capacity,
    [property: Description("Empty when left out.")] string? Description = null,
    [property: Description("Take bookings through the queue (202); false when left out.")] bool? HighDemand = null,
    [property: Description("Optional seat layout; capacity must then equal the number of seats.")] SeatingRequest? Seating = null);

public sealed record SeatingRequest(IReadOnlyList<SeatSectionRequest?>? Sections);

public sealed record SeatSectionRequest(string? Name, int Rows, int SeatsPerRow);

public sealed record EventListQuery(
    [property: Description("Text the name or the venue contains.")] [FromQuery(Name = "q")] string? Q,
    [property: Description("Earliest start time (inclusive).")] [FromQuery(Name = "from")] DateTimeOffset? From,
    [property: Description("Latest start time (inclusive).")] [FromQuery(Name = "to")] DateTimeOffset? To);

public sealed record EventSummary(
    long Id, string Name, string Venue, DateTime StartsAt, DateTime EndsAt, int Capacity, int Booked, int Available,
    EventStatus Status, bool HasSeating, bool HighDemand)
{
    public static EventSummary From(Event evt) => new(evt.Id, evt.Name, evt.Venue, evt.StartsAt, evt.EndsAt,
        evt.Capacity, evt.Booked, evt.Available, evt.Status, evt.HasSeating, evt.HighDemand);
}

/// <summary>The contract's <c>Event</c>: an <see cref="EventSummary"/> plus description and timestamps.</summary>
public sealed record EventDetails(
    long Id, string Name, string Venue, DateTime StartsAt, DateTime EndsAt, int Capacity, int Booked, int Available,
    EventStatus Status, bool HasSeating, bool HighDemand, string Description, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static EventDetails From(Event evt) => new(evt.Id, evt.Name, evt.Venue, evt.StartsAt, evt.EndsAt,
        evt.Capacity, evt.Booked, evt.Available, evt.Status, evt.HasSeating, evt.HighDemand, evt.Description,
        evt.CreatedAt, evt.UpdatedAt);
}

public sealed record SeatResponse(long Id, string Section, string Row, int Number, SeatStatus Status);
