using Evently.Domain.Common;
using Evently.ApiService.Auth;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Evently.ApiService.Events;

public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("api/events").WithTags("Events");

        api.MapGet("/", ListEvents)
            .WithName("ListEvents")
            .WithSummary("List upcoming events")
            .WithDescription("Scheduled events that have not started, soonest first. Ticket counts may lag bookings by up to a second; admin changes show at once.");

        api.MapGet("/{id:long}", GetEvent)
            .WithName("GetEvent")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Get an event")
            .WithDescription("Ticket counts may lag bookings by up to a second; admin changes show at once.");

        api.MapGet("/{id:long}/seats", GetSeats)
            .WithName("GetEventSeats")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("List an event's seats and their status")
            .WithDescription("An event without seating answers an empty list. Seat statuses may lag bookings by up to a second.");

        var admin = api.MapGroup("").RequireAuthorization(AuthExtensions.AdminPolicy);

        admin.MapPost("/", CreateEvent)
            .WithName("CreateEvent")
            .ProducesLocation(StatusCodes.Status201Created, "The event's address, /api/events/{id}.")
            .WithSummary("Create an event (admin)")
            .WithDescription("A seat layout creates the seats in the same transaction; capacity must equal the number of seats.");

        admin.MapPut("/{id:long}", UpdateEvent)
            .WithName("UpdateEvent")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Update an event (admin)")
            .WithDescription("409 when capacity would fall below the tickets booked, or the seat layout would change once seats are booked.");

        admin.MapDelete("/{id:long}", CancelEvent)
            .WithName("CancelEvent")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Cancel an event (admin)")
            .WithDescription("The event becomes 'cancelled' and leaves the public list; every active booking is cancelled and its holder notified.");

        return app;
    }

    public static async Task<Results<CachedJson<PageResult<EventSummary>>, ValidationProblem>> ListEvents(
        [AsParameters] PageRequest paging, [AsParameters] EventListQuery query, EventReads reads, CancellationToken cancellationToken)
    {
        var errors = paging.Validate();
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        return new CachedJson<PageResult<EventSummary>>((await reads.ListAsync(paging, query, cancellationToken))!);
    }

    public static async Task<Results<CachedJson<EventDetails>, ProblemHttpResult>> GetEvent(
        long id, EventReads reads, CancellationToken cancellationToken) =>
        await reads.GetAsync(id, cancellationToken) is { } evt ? new CachedJson<EventDetails>(evt) : Problems.From(EventErrors.NotFound);

    public static async Task<Results<CachedJson<List<SeatResponse>>, ProblemHttpResult>> GetSeats(
        long id, EventReads reads, CancellationToken cancellationToken) =>
        await reads.SeatsAsync(id, cancellationToken) is { } seats ? new CachedJson<List<SeatResponse>>(seats) : Problems.From(EventErrors.NotFound);

    public static async Task<Results<Created<EventDetails>, ValidationProblem, ProblemHttpResult>> CreateEvent(
        CreateEventRequest request, [AsParameters] EventServices services, CancellationToken cancellationToken)
    {
        var errors = EventValidation.Validate(request, services.TimeProvider.UtcNow());
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var result = await services.Events.CreateAsync(EventValidation.ToDraft(request), cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }
        await services.Changes.AnnounceAsync();
        return TypedResults.Created($"/api/events/{result.Value!.Id}", EventDetails.From(result.Value));
    }

    public static async Task<Results<Ok<EventDetails>, ValidationProblem, ProblemHttpResult>> UpdateEvent(
        long id, CreateEventRequest request, [AsParameters] EventServices services, CancellationToken cancellationToken)
    {
        var stored = await services.Db.Events.AsNoTracking().Where(e => e.Id == id)
            .Select(e => new { e.StartsAt }).SingleOrDefaultAsync(cancellationToken);
        if (stored is null)
        {
            return Problems.From(EventErrors.NotFound);
        }

        var errors = EventValidation.Validate(request, services.TimeProvider.UtcNow(), stored.StartsAt);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var result = await services.Events.UpdateAsync(id, EventValidation.ToDraft(request), cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }
        await services.Changes.AnnounceAsync();
        await services.Nudge.WakeAsync();
        return TypedResults.Ok(EventDetails.From(result.Value!));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> CancelEvent(
        long id, [AsParameters] EventServices services, CancellationToken cancellationToken)
    {
        var result = await services.Events.CancelAsync(id, cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }
        await services.Changes.AnnounceAsync();
        await services.Nudge.WakeAsync();
        return TypedResults.NoContent();
    }
}

public sealed record EventServices(
    EventlyDbContext Db, EventService Events, EventChanges Changes, WorkerNudge Nudge, TimeProvider TimeProvider);
