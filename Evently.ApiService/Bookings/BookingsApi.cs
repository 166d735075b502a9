using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Evently.ApiService.Auth;
using Evently.ApiService.Infrastructure;
using Evently.ApiService.Events;
using Evently.Domain.Bookings;
using Evently.Domain.Common;
using Evently.Domain.Idempotency;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
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
            .ProducesLocation(StatusCodes.Status201Created, "The booking's address, /api/bookings/{id}.")
            .ProducesLocation(StatusCodes.Status202Accepted, "The queued request's address, /api/bookings/requests/{requestId}: poll it for the answer.")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Book tickets: a quantity, or chosen seats")
            .WithDescription("Any signed-in account may book (admins too). Never oversells. 409 'sold-out' or 'seat-taken'; " +
                $"422 once the event has started. With an Idempotency-Key header (up to {IdempotencyLedger.MaxKeyLength} characters) a repeat of the " +
                "request answers what the key made first, whichever path serves the repeat (the event's highDemand flag may have changed): " +
                "the same booking (201) or the same queued request (202), and never a second booking; a request refused with 409 made " +
                "nothing, so its repeat is a fresh attempt. A key reused for a different request answers 422. " +
                "For a highDemand event the request is queued instead: 202 BookingRequest with a Location to poll; at most " +
                $"{BookingQueue.MaxQueuedTicketsPerUser} tickets queued per user and event (409 'too-many-queued'); 503 with Retry-After while the queue is unavailable.");

        api.MapGet("/requests/{requestId:long}", GetBookingRequest)
            .WithName("GetBookingRequest")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("A queued booking request of the caller: queued (with position), confirmed or rejected")
            .WithDescription("While queued: position (how many are ahead) and estimatedWaitSeconds, or, in the pre-queue before the " +
                "sale opens, opensAt. GET /api/bookings/requests/{requestId}/events pushes the same as it changes. 503 with Retry-After " +
                "while the queue is unavailable and the request is not answered yet (it may still be queued).");
        api.MapRequestEvents();

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
        CreateBookingRequest request, [FromHeader(Name = IdempotencyKeyHeader), StringLength(IdempotencyLedger.MaxKeyLength)] string? idempotencyKey,
        ClaimsPrincipal user, [AsParameters] BookingServices services, CancellationToken cancellationToken)
    {
        var command = new BookingCommand(user.UserId(), request.EventId ?? 0, request.Quantity, request.SeatIds, idempotencyKey);
        var facts = command.EventId > 0 ? await services.Reads.FactsAsync(command.EventId, cancellationToken) : null;
        var toQueue = facts is { HighDemand: true };
        var result = default(Result<BookingOutcome>);
        if (!toQueue)
        {
            result = await services.Book.HandleAsync(command, facts, cancellationToken);
            // Made high-demand since this replica's facts were read (events are never deleted): queued instead.
            toQueue = result.Error == BookingErrors.HighDemand;
            if (toQueue)
            {
                facts = await EventFacts.LoadAsync(services.Db, command.EventId, cancellationToken);
            }
        }
        if (toQueue)
        {
            // The high-demand path: no database write; the worker books it (or not) and answers exactly once.
            try
            {
                result = await services.Intake.HandleAsync(command, facts!, cancellationToken);
            }
            catch (Exception ex) when (RedisConnection.IsOutage(ex))
            {
                // The script may have run before the connection or its answer was lost: only the same Idempotency-Key can tell.
                return Problems.Unavailable("The booking queue of this high-demand event is unavailable right now; the request may or " +
                    "may not have been queued. Repeat it with the same Idempotency-Key to find out, without queuing it twice.");
            }
        }

        if (!result.Succeeded)
        {
            return result.Error!.Errors is { } errors ? Problems.Validation(errors.ToDictionary()) : Problems.From(result.Error);
        }
        return result.Value! switch
        {
            { Booking: { } booking } => TypedResults.Created($"/api/bookings/{booking.Id}", BookingResponse.From(booking)),
            { Request: { } queued } => TypedResults.Accepted($"/api/bookings/requests/{queued.RequestId}", BookingRequestResponse.From(queued)),
            _ => throw new InvalidOperationException("A booking outcome is a booking or a queued request.")
        };
    }

    public static async Task<Results<Ok<BookingRequestResponse>, ProblemHttpResult>> GetBookingRequest(
        long requestId, ClaimsPrincipal user, [AsParameters] BookingServices services, CancellationToken cancellationToken) =>
        await ReadRequestAsync(requestId, user.UserId(), services.Queue, () => services.Db, cancellationToken) is { } state
            ? TypedResults.Ok(BookingRequestResponse.From(state))
            : Problems.From(BookingErrors.RequestNotFound);

    /// <summary>
    /// The caller's request as Redis knows it, else as the database answered it; null for another user's or none. While
    /// Redis cannot serve, a request the database has not answered may still be queued: the outage is thrown (503).
    /// </summary>
    /// <param name="db">Asked for only when Redis does not know the request.</param>
    internal static async Task<QueuedRequestState?> ReadRequestAsync(
        long requestId, long userId, BookingQueue queue, Func<EventlyDbContext> db, CancellationToken cancellationToken)
    {
        QueuedRequestState? state;
        try
        {
            state = await queue.GetAsync(requestId);
        }
        catch (Exception ex) when (RedisConnection.IsOutage(ex))
        {
            // Answered requests are in the database too; "not found" for one still queued would have its owner ask again.
            if (await ReadAnsweredAsync(requestId, userId, db(), cancellationToken) is { } answered)
            {
                return answered;
            }
            throw;
        }
        if (state is not null)
        {
            return state.UserId == userId ? state : null;
        }
        return await ReadAnsweredAsync(requestId, userId, db(), cancellationToken);
    }

    private static async Task<QueuedRequestState?> ReadAnsweredAsync(long requestId, long userId, EventlyDbContext db, CancellationToken ct) =>
        await db.BookingRequests.AsNoTracking().SingleOrDefaultAsync(r => r.Id == requestId && r.UserId == userId, ct) is { } answered
            ? QueuedRequestState.From(answered)
            : null;

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
        var bookings = services.Bookings.Query().Where(b => b.UserId == userId);
        if (wanted is { } status)
        {
            bookings = BookingReads.WithStatusAsRead(bookings, status);
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
        var booking = await services.Bookings.Query()
            .SingleOrDefaultAsync(b => b.Id == id && b.UserId == userId, cancellationToken);
        return booking is null ? Problems.From(BookingErrors.NotFound) : TypedResults.Ok(BookingResponse.From(booking));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> CancelBooking(
        long id, ClaimsPrincipal user, [AsParameters] BookingServices services, CancellationToken cancellationToken)
    {
        var result = await services.Cancel.HandleAsync(id, user.UserId(), user.IsAdmin(), cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }

        // Only offers leave the worker work (their mail, their expiry); a nudge for every cancel had it look for none. A
        // booking found cancelled already may be this cancel's own retry after a lost commit, whose offers it cannot see.
        if (result.Value is { Offers: > 0 } or { Cancelled: false })
        {
            await services.Nudge.WakeAsync();
        }
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<BookingResponse>, ValidationProblem, ProblemHttpResult>> ChangeSeats(
        long id, ChangeSeatsRequest request, ClaimsPrincipal user, [AsParameters] BookingServices services,
        CancellationToken cancellationToken)
    {
        var result = await services.ChangeSeats.HandleAsync(id, user.UserId(), request.SeatIds, cancellationToken);
        if (!result.Succeeded)
        {
            return result.Error!.Errors is { } errors ? Problems.Validation(errors.ToDictionary()) : Problems.From(result.Error);
        }

        // Seats given back may have gone to the line: their offers are the worker's to mail and expire.
        if (result.Value.Offers > 0)
        {
            await services.Nudge.WakeAsync();
        }
        return TypedResults.Ok(BookingResponse.From(result.Value.Booking));
    }
}

public sealed record BookingServices(
    BookTickets Book, QueueIntake Intake, CancelBooking Cancel, ChangeSeats ChangeSeats, BookingReads Bookings, WorkerNudge Nudge,
    EventReads Reads, BookingQueue Queue, EventlyDbContext Db);
