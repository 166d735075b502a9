using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Evently.ApiService.Auth;
using Evently.ApiService.Bookings;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Bookings;
using Evently.Domain.Idempotency;
using Evently.Domain.Waitlist;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Evently.ApiService.Waitlist;

public static class WaitlistApi
{
    public static IEndpointRouteBuilder MapWaitlistApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("api/waitlist").WithTags("Waitlist").RequireAuthorization();

        api.MapPost("/", JoinWaitlist)
            .WithName("JoinWaitlist")
            .ProducesLocation(StatusCodes.Status201Created, "The entry's address, /api/waitlist/{id} (DELETE it to leave the line).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Join the waitlist of a sold-out event")
            .WithDescription("Only while the event has no ticket free (409 'not-sold-out': book instead), once per event " +
                "(409 'already-waiting'). When tickets come back they are offered first come, first served to the entries " +
                "whose quantity fits, held for Evently:Waitlist:OfferMinutes, and the holder is notified in the app and by e-mail. " +
                "404 for an unknown or cancelled event, 422 once it has started.");

        api.MapGet("/", ListEntries)
            .WithName("ListWaitlistEntries")
            .WithSummary("The caller's waitlist entries, newest first");

        api.MapDelete("/{id:long}", LeaveWaitlist)
            .WithName("LeaveWaitlist")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Leave the line")
            .WithDescription("An open offer is given up and its tickets pass to the next in line. Leaving an entry that has left is 204 " +
                "and changes nothing; 409 'not-waiting' once the entry was booked or expired.");

        api.MapPost("/{id:long}/claim", ClaimOffer)
            .WithName("ClaimWaitlistOffer")
            .ProducesLocation(StatusCodes.Status201Created, "The booking's address, /api/bookings/{id}.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Book the tickets an open offer holds")
            .WithDescription("201 the booking; a repeated claim answers with the same booking. 409 'offer-expired' or 'no-offer'. " +
                "Idempotency-Key works as for POST /api/bookings.");

        return app;
    }

    public static async Task<Results<Created<WaitlistEntryResponse>, ValidationProblem, ProblemHttpResult>> JoinWaitlist(
        JoinWaitlistRequest request, ClaimsPrincipal user, WaitlistService waitlist, CancellationToken cancellationToken)
    {
        if (request.EventId is not > 0)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["eventId"] = ["eventId is required."] });
        }
        var result = await waitlist.JoinAsync(user.UserId(), request.EventId.Value, request.Quantity, cancellationToken);
        if (!result.Succeeded)
        {
            return result.Error!.Errors is { } errors ? Problems.Validation(errors.ToDictionary()) : Problems.From(result.Error);
        }
        return TypedResults.Created($"/api/waitlist/{result.Value!.Entry.Id}", WaitlistEntryResponse.From(result.Value));
    }

    public static async Task<Results<Ok<PageResult<WaitlistEntryResponse>>, ValidationProblem>> ListEntries(
        [AsParameters] PageRequest paging, [AsParameters] WaitlistQuery query, ClaimsPrincipal user, WaitlistService waitlist,
        CancellationToken cancellationToken)
    {
        var errors = paging.Validate();
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var (items, total) = await waitlist.ListAsync(user.UserId(), query.EventId, paging.Skip, paging.Size, cancellationToken);
        return TypedResults.Ok(new PageResult<WaitlistEntryResponse>(
            items.Select(WaitlistEntryResponse.From).ToList(), paging.PageNumber, paging.Size, total));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> LeaveWaitlist(
        long id, ClaimsPrincipal user, WaitlistService waitlist, WorkerNudge nudge, CancellationToken cancellationToken)
    {
        var result = await waitlist.LeaveAsync(id, user.UserId(), cancellationToken);
        if (!result.Succeeded)
        {
            return Problems.From(result.Error!);
        }
        // Only offers leave the worker work (their mail, their expiry). An entry found left already may be this leave's own
        // retry after a lost commit, whose offers it cannot see (as for a cancel).
        if (result.Value is { Offers: > 0 } or { Left: false })
        {
            await nudge.WakeAsync();
        }
        return TypedResults.NoContent();
    }

    public static async Task<Results<Created<BookingResponse>, ValidationProblem, ProblemHttpResult>> ClaimOffer(
        long id, [FromHeader(Name = BookingsApi.IdempotencyKeyHeader), StringLength(IdempotencyLedger.MaxKeyLength)] string? idempotencyKey,
        ClaimsPrincipal user, Evently.Domain.Bookings.ClaimOffer claims, CancellationToken cancellationToken)
    {
        var result = await claims.HandleAsync(id, user.UserId(), idempotencyKey, cancellationToken);
        if (!result.Succeeded)
        {
            return result.Error!.Errors is { } errors ? Problems.Validation(errors.ToDictionary()) : Problems.From(result.Error);
        }
        var booking = result.Value!;
        return TypedResults.Created($"/api/bookings/{booking.Id}", BookingResponse.From(booking));
    }
}
