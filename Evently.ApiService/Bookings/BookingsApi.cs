using System.Security.Claims;
using Evently.ApiService.Auth;
using Evently.ApiService.Infrastructure;
using Evently.ApiService.Events;
using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using StackExchange.Redis;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Evently.ApiService.Bookings;

public static class BookingsApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static IEndpointRouteBuilder MapBookingsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("api/bookings").WithTags("Bookings").RequireAuthorization();

        api.MapPost("/", CreateBooking)
            .WithName("CreateBooking")
            .Produces<BookingRequestResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Book tickets: a quantity, or chosen seats")
            .WithDescription("Any signed-in account may book (admins too). Never oversells. 409 'sold-out' or 'seat-taken'; " +
                "422 once the event has started. With an Idempotency-Key header (up to 64 characters) a repeat of the " +
                "request returns the booking the key made, and never makes a second one; a request that was refused made " +
                "nothing, so its repeat is a fresh attempt. A key reused for a different request answers 422. " +
                "For a highDemand event the request is queued instead: 202 BookingRequest with a Location to poll; at most " +
                "10 tickets queued per user and event (409 'too-many-queued'); 503 with Retry-After while the queue is unavailable.");

        api.MapGet("/requests/{requestId:long}", GetBookingRequest)
            .WithName("GetBookingRequest")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A queued booking request of the caller: queued (with position), confirmed or rejected");

        api.MapGet("/", ListBookings)
            .WithName("ListBookings")
            .WithSummary("The caller's bookings, newest first, cancelled ones included");

        api.MapGet("/{id:long}", GetBooking)
            .WithName("GetBooking")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One of the caller's bookings");

        api.MapDelete("/{id:long}", CancelBooking)
            .WithName("CancelBooking")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Cancel a booking (owner or admin)")
            .WithDescription("The tickets return to sale at once and the waitlist is offered them. Cancelling a cancelled booking changes nothing. 422 once the event has started.");

        api.MapPost("/{id:long}/seats", ChangeSeats)
            .WithName("ChangeBookingSeats")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Pick or change the seats of a confirmed booking")
            .WithDescription("Exactly the booking's quantity of seats. 409 'seat-taken' changes nothing.");

        return app;
    }

    public static async Task<Results<Created<BookingResponse>, Accepted<BookingRequestResponse>, ValidationProblem, ProblemHttpResult>> CreateBooking(
        CreateBookingRequest request, [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        ClaimsPrincipal user, [AsParameters] BookingServices services, CancellationToken cancellationToken)
    {
        var command = new BookingCommand(user.UserId(), request.EventId ?? 0, request.Quantity, request.SeatIds, idempotencyKey);
        if (command.EventId > 0
            && await services.Reads.FactsAsync(command.EventId, cancellationToken) is { HighDemand: true } facts)
        {
            return await QueueAsync(command, facts, services.Queue);
        }

        var result = await services.Bookings.BookAsync(command, cancellationToken);
        if (!result.Succeeded)
        {
            return result.Error!.Errors is { } errors ? Problems.Validation(errors.ToDictionary()) : Problems.From(result.Error);
        }

        var booking = result.Value!;
        return TypedResults.Created($"/api/bookings/{booking.Id}", BookingResponse.From(booking));
    }

    // The high-demand path: validated against the cached event facts and appended to the event's stream,
    // with no database read or write. The worker books it (or not) and answers exactly once.
    private static async Task<Results<Created<BookingResponse>, Accepted<BookingRequestResponse>, ValidationProblem, ProblemHttpResult>> QueueAsync(
        BookingCommand command, EventFacts facts, BookingQueue queue)
    {
        var refused = BookingRules.Validate(command)
            ?? (facts.Status == EventStatus.Cancelled ? BookingErrors.EventNotFound
            : facts.StartsAt <= DateTime.UtcNow ? BookingErrors.EventStarted
            : facts.HasSeating && command.SeatIds is null ? BookingErrors.SeatsRequired
            : !facts.HasSeating && command.SeatIds is not null ? BookingErrors.InvalidSeats("This event has no numbered seats: book a quantity instead.")
            : null);
        if (refused is not null)
        {
            return refused.Errors is { } errors ? Problems.Validation(errors.ToDictionary()) : Problems.From(refused);
        }
        if (!queue.IsAvailable)
        {
            return Problems.Unavailable("The booking queue of this high-demand event is unavailable right now; nothing was queued.");
        }

        try
        {
            var (outcome, requestId, position) = await queue.EnqueueAsync(command);
            switch (outcome)
            {
                case EnqueueOutcome.KeyReused:
                    return Problems.From(BookingErrors.IdempotencyKeyReused);
                case EnqueueOutcome.TooManyQueued:
                    return Problems.From(BookingErrors.TooManyQueued);
                case EnqueueOutcome.Replayed when await queue.GetAsync(requestId) is { } state:
                    return TypedResults.Accepted($"/api/bookings/requests/{requestId}", BookingRequestResponse.From(state));
            }
            return TypedResults.Accepted($"/api/bookings/requests/{requestId}", new BookingRequestResponse(
                requestId, command.EventId, BookingRules.Tickets(command), BookingRequestStatus.Queued, position, null, null));
        }
        catch (Exception ex) when (RedisConnection.IsOutage(ex))
        {
            // The script may have run before the connection or its answer was lost: only the same Idempotency-Key can tell.
            return Problems.Unavailable("The booking queue did not answer in time; the request may or may not have been queued. " +
                "Repeat it with the same Idempotency-Key to find out, without queuing it twice.");
        }
    }

    public static async Task<Results<Ok<BookingRequestResponse>, ProblemHttpResult>> GetBookingRequest(
        long requestId, ClaimsPrincipal user, [AsParameters] BookingServices services, CancellationToken cancellationToken)
    {
        var userId = user.UserId();
        QueuedRequestState? state = null;
        try
        {
            state = await services.Queue.GetAsync(requestId);
        }
        catch (Exception ex) when (RedisConnection.IsOutage(ex))
        {
            // Answered requests are in the database too.
        }
        if (state is not null)
        {
            return state.UserId == userId ? TypedResults.Ok(BookingRequestResponse.From(state)) : Problems.From(BookingErrors.RequestNotFound);
        }

        var answered = await services.Db.BookingRequests.AsNoTracking()
            .SingleOrDefaultAsync(r => r.Id == requestId && r.UserId == userId, cancellationToken);
        return answered is null ? Problems.From(BookingErrors.RequestNotFound) : TypedResults.Ok(BookingRequestResponse.From(answered));
    }

    public static async Task<Results<Ok<PageResult<BookingResponse>>, ValidationProblem>> ListBookings(
        [AsParameters] PageRequest paging, [AsParameters] BookingListQuery query, ClaimsPrincipal user,
        [AsParameters] BookingServices services, CancellationToken cancellationToken)
    {
        var errors = paging.Validate();
        if (!query.TryGetStatus(out var wanted))
        {
            errors["status"] = ["status must be 'confirmed' or 'cancelled'."];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var userId = user.UserId();
        var bookings = services.Bookings.QueryBookings().Where(b => b.UserId == userId);
        if (wanted is { } status)
        {
            bookings = bookings.Where(b => b.Status == status);
        }

        var total = await bookings.CountAsync(cancellationToken);
        var page = await bookings.OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id)
            .Skip(paging.Skip).Take(paging.Size)
            .AsSplitQuery()
            .ToListAsync(cancellationToken);

        return TypedResults.Ok(new PageResult<BookingResponse>(
            page.Select(BookingResponse.From).ToList(), paging.PageNumber, paging.Size, total));
    }

    public static async Task<Results<Ok<BookingResponse>, ProblemHttpResult>> GetBooking(
        long id, ClaimsPrincipal user, [AsParameters] BookingServices services, CancellationToken cancellationToken)
    {
        var userId = user.UserId();
        var booking = await services.Bookings.QueryBookings()
            .SingleOrDefaultAsync(b => b.Id == id && b.UserId == userId, cancellationToken);
        return booking is null ? Problems.From(BookingErrors.NotFound) : TypedResults.Ok(BookingResponse.From(booking));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> CancelBooking(
        long id, ClaimsPrincipal user, [AsParameters] BookingServices services, CancellationToken cancellationToken)
    {
        var result = await services.Bookings.CancelAsync(id, user.UserId(), user.IsAdmin(), cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }

        await services.Nudge.WakeAsync();
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<BookingResponse>, ValidationProblem, ProblemHttpResult>> ChangeSeats(
        long id, ChangeSeatsRequest request, ClaimsPrincipal user, [AsParameters] BookingServices services,
        CancellationToken cancellationToken)
    {
        var result = await services.Bookings.ChangeSeatsAsync(id, user.UserId(), request.SeatIds, cancellationToken);
        if (!result.Succeeded)
        {
            return result.Error!.Errors is { } errors ? Problems.Validation(errors.ToDictionary()) : Problems.From(result.Error);
        }

        return TypedResults.Ok(BookingResponse.From(result.Value!));
    }
}

public sealed record BookingServices(
    BookingService Bookings, WorkerNudge Nudge, EventReads Reads, BookingQueue Queue, EventlyDbContext Db);
