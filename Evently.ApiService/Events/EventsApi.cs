using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Evently.ApiService.Auth;
using Evently.ApiService.Bookings;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Bookings;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
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
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Create an event (admin)")
            .WithDescription("A seat layout creates the seats in the same transaction; capacity must equal the number of seats " +
                $"(at most {EventValidation.MaxSeats:N0}). With an Idempotency-Key header (up to {IdempotencyLedger.MaxKeyLength} characters) a repeat " +
                "answers the event the key created (201, the event as it is now) and never creates a second one; a key used before " +
                "for another request (another event, or a booking: one key, one request) answers 422 'idempotency-key-reused'.");

        admin.MapPut("/{id:long}", UpdateEvent)
            .WithName("UpdateEvent")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Update an event (admin)")
            .WithDescription("409 when capacity would fall below the tickets booked, or the seat layout would change once seats are booked. " +
                "When the time or venue changes, every holder of a booking gets an 'event-changed' notification, shortly after the answer " +
                "(the worker sends them in batches).");

        admin.MapGet("/{id:long}/queue", GetQueue)
            .WithName("GetEventQueue")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("The on-sale's live figures (admin)")
            .WithDescription("For a highDemand event: requests in the pre-queue (before the opening) and in the queue, requests " +
                "answered, confirmed and rejected, the measured drain rate (answers per second) and how long the oldest unanswered " +
                "request has waited. Read afresh on every call (the admin page polls it during a sale).");

        admin.MapDelete("/{id:long}", CancelEvent)
            .WithName("CancelEvent")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Cancel an event (admin)")
            .WithDescription("The event becomes 'cancelled' and leaves the public list at once, and every active booking reads 'cancelled' " +
                "from then on; the worker then cancels their rows, notifies each holder and closes the waitlist, in batches, shortly " +
                "after the answer (an event of any size answers within the request's deadline). Cancelling a cancelled event is 204 and " +
                "changes nothing.");

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
        CreateEventRequest request,
        [FromHeader(Name = BookingsApi.IdempotencyKeyHeader), StringLength(IdempotencyLedger.MaxKeyLength)] string? idempotencyKey,
        ClaimsPrincipal user, [AsParameters] EventServices services, CancellationToken cancellationToken)
    {
        if (idempotencyKey is { Length: > IdempotencyLedger.MaxKeyLength })
        {
            return Problems.Validation(new Dictionary<string, string[]>
            {
                [BookingsApi.IdempotencyKeyHeader] = [$"The Idempotency-Key header may be at most {IdempotencyLedger.MaxKeyLength} characters."]
            });
        }

        var errors = EventValidation.Validate(request, services.TimeProvider.UtcNow());
        if (errors.Count > 0)
        {
            // A client repeating a create whose answer it lost gets the event its key made, even once that event has
            // started (which the rules now refuse for a new one).
            if (idempotencyKey is not null && EventValidation.IsWellFormed(request)
                && await services.Create.FindRepeatAsync(EventValidation.ToDraft(request), user.UserId(), idempotencyKey, cancellationToken)
                    is { Succeeded: true } repeat)
            {
                return CreatedEvent(repeat.Value!);
            }
            return Problems.Validation(errors);
        }

        var result = await services.Create.HandleAsync(EventValidation.ToDraft(request), user.UserId(), idempotencyKey, cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }
        await services.Changes.AnnounceAsync();
        return CreatedEvent(result.Value!);
    }

    private static Created<EventDetails> CreatedEvent(Event evt) => TypedResults.Created($"/api/events/{evt.Id}", EventDetails.From(evt));

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

        var result = await services.Update.HandleAsync(id, EventValidation.ToDraft(request), cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }
        await services.Changes.AnnounceAsync();
        await services.Opening.MoveAsync(id, result.Value!.SalesStartAt);
        await services.Nudge.WakeAsync();
        return TypedResults.Ok(EventDetails.From(result.Value!));
    }

    public static async Task<Results<Ok<EventQueueResponse>, ProblemHttpResult>> GetQueue(
        long id, EventReads reads, QueueReports reports, CancellationToken cancellationToken) =>
        await reads.FactsAsync(id, cancellationToken) is null
            ? Problems.From(EventErrors.NotFound)
            : TypedResults.Ok(EventQueueResponse.From(await reports.ReadAsync(id, cancellationToken)));

    public static async Task<Results<NoContent, ProblemHttpResult>> CancelEvent(
        long id, [AsParameters] EventServices services, CancellationToken cancellationToken)
    {
        var result = await services.Cancel.HandleAsync(id, cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }
        await services.Changes.AnnounceAsync();
        // A pre-queue waiting for the opening opens now, so the worker answers it (rejected: the event is cancelled)
        // rather than at a time that will never come.
        await services.Opening.MoveAsync(id, null);
        await services.Nudge.WakeAsync();
        return TypedResults.NoContent();
    }
}

public sealed record EventServices(
    EventlyDbContext Db, CreateEvent Create, UpdateEvent Update, CancelEvent Cancel, EventChanges Changes, WorkerNudge Nudge,
    QueueOpening Opening, TimeProvider TimeProvider);
