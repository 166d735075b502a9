using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Events;
using Microsoft.AspNetCore.Mvc;

namespace Evently.ApiService.Events;

/// <summary>Body of POST and PUT /api/events.</summary>
/// <remarks>The attributes state for the OpenAPI document what EventValidation checks (see OpenApiSchemaRules).</remarks>
public sealed record CreateEventRequest(
    [property: Required, NotBlank, StringLength(EventValidation.MaxNameLength)] string? Name,
    [property: Required, NotBlank, StringLength(EventValidation.MaxNameLength)] string? Venue,
    [property: Required, Description("In the future (on update it may stay where it was).")] DateTimeOffset? StartsAt,
    [property: Required, Description("After startsAt.")] DateTimeOffset? EndsAt,
    [property: Required, Range(1, int.MaxValue), Description("With a seat layout, exactly its number of seats.")] int? Capacity,
    [property: StringLength(EventValidation.MaxDescriptionLength), Description("Empty when left out.")] string? Description = null,
    [property: Description("Take bookings through the queue (202); false when left out.")] bool? HighDemand = null,
    [property: Description("Optional seat layout; capacity must then equal the number of seats.")] SeatingRequest? Seating = null,
    [property: Description("When bookings open (before startsAt); on sale at once when left out or null. Before it a booking answers " +
        "409 'not-on-sale', or, for a highDemand event, joins the pre-queue that is shuffled at the opening.")] DateTimeOffset? SalesStartAt = null);

public sealed record SeatingRequest(
    [property: Required, Length(1, EventValidation.MaxSections), Description("Sections with unique names (ignoring case and accents).")]
    IReadOnlyList<SeatSectionRequest>? Sections);

[Description("A section of rows named A, B, ... with seats numbered from 1.")]
public sealed record SeatSectionRequest(
    [property: Required, NotBlank, StringLength(EventValidation.MaxSectionNameLength)] string? Name,
    [property: Range(1, EventValidation.MaxRows)] int Rows,
    [property: Range(1, EventValidation.MaxSeatsPerRow)] int SeatsPerRow);

public sealed record EventListQuery(
    [property: Description("Text the name or the venue contains.")] [FromQuery(Name = "q")] string? Q,
    [property: Description("Earliest start time (inclusive).")] [FromQuery(Name = "from")] DateTimeOffset? From,
    [property: Description("Latest start time (inclusive).")] [FromQuery(Name = "to")] DateTimeOffset? To);

public sealed record EventSummary(
    long Id, string Name, string Venue, DateTime StartsAt, DateTime EndsAt, int Capacity, int Booked, int Available,
    EventStatus Status, bool HasSeating, bool HighDemand,
    [property: Description("When bookings open; null: on sale now.")] DateTime? SalesStartAt)
{
    public static EventSummary From(Event evt) => new(evt.Id, evt.Name, evt.Venue, evt.StartsAt, evt.EndsAt,
        evt.Capacity, evt.Booked, evt.Available, evt.Status, evt.HasSeating, evt.HighDemand, evt.SalesStartAt);
}

/// <summary>The contract's <c>Event</c>: an <see cref="EventSummary"/> plus description and timestamps.</summary>
public sealed record EventDetails(
    long Id, string Name, string Venue, DateTime StartsAt, DateTime EndsAt, int Capacity, int Booked, int Available,
    EventStatus Status, bool HasSeating, bool HighDemand,
    [property: Description("When bookings open; null: on sale now.")] DateTime? SalesStartAt,
    string Description, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static EventDetails From(Event evt) => new(evt.Id, evt.Name, evt.Venue, evt.StartsAt, evt.EndsAt,
        evt.Capacity, evt.Booked, evt.Available, evt.Status, evt.HasSeating, evt.HighDemand, evt.SalesStartAt, evt.Description,
        evt.CreatedAt, evt.UpdatedAt);
}

public sealed record SeatResponse(long Id, string Section, string Row, int Number, SeatStatus Status);

/// <summary>GET /api/events/{id}/queue: an on-sale's live figures.</summary>
public sealed record EventQueueResponse(
    long EventId,
    [property: Description("Requests in the pre-queue, waiting for the opening, then for their place while the shuffled pre-queue is placed.")] long PreQueued,
    [property: Description("Requests placed in the queue (or arrived after the opening, before the shuffle) and not answered yet.")] long Queued,
    [property: Description("Requests answered: confirmed + rejected.")] long Answered,
    long Confirmed,
    long Rejected,
    [property: Description("Answers per second, a moving average over the worker's recent batches; null until measured.")] double? DrainRate,
    [property: Description("Seconds the oldest unanswered request has waited; null when none waits.")] double? OldestWaitSeconds,
    [property: Description("When the sale opens, until the pre-queue is shuffled.")] DateTime? OpensAt,
    [property: Description("Whether the pre-queue was shuffled into the queue (false when the event never had one).")] bool Opened)
{
    public static EventQueueResponse From(Evently.Domain.Bookings.QueueReport report) => new(report.EventId, report.PreQueued, report.Queued,
        report.Answered, report.Confirmed, report.Rejected, report.DrainRate, report.OldestWaitSeconds, report.OpensAt, report.Opened);
}
