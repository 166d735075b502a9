using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Evently.ApiService.Auth;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Bookings;
using Evently.Domain.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Evently.ApiService.Bookings;

/// <summary>
/// <c>GET /api/bookings/requests/{requestId}/events</c>: a queued request's place and final answer as server-sent
/// events. Each stream waits on this replica's <see cref="QueueWatch"/> of its event, which hands it its place at the
/// opening, its answer, and the figures once a second: an open stream costs Redis nothing of its own, and no timer.
/// </summary>
public static class RequestEventsApi
{
    public const string MediaType = "text/event-stream";
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static RouteGroupBuilder MapRequestEvents(this RouteGroupBuilder bookings)
    {
        bookings.MapGet("/requests/{requestId:long}/events", StreamRequestEvents)
            .WithName("StreamBookingRequestEvents")
            .Produces<BookingRequestResponse>(StatusCodes.Status200OK, MediaType)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .DisableRequestTimeout()
            .WithSummary("Follow a queued booking request live (server-sent events)")
            .WithDescription("A text/event-stream of the caller's request. Every event's data is the BookingRequest as " +
                "GET /api/bookings/requests/{requestId} answers it. 'position' events come when the position or the wait estimate " +
                "changes, at most once a second (while in the pre-queue: one with opensAt and no position; a replica holding more than 5,000 " +
                "streams of one event gives them their positions in turn, 5,000 a second); then one 'answer' event " +
                "(confirmed or rejected) and the stream ends. Each event's id is the event's count of answered requests " +
                "('answer' for the answer): reconnect with Last-Event-ID to receive only what changed since. A comment line " +
                "(': keep-alive') every 15 s keeps proxies from closing an idle stream. Opening a stream counts once against the " +
                "caller's rate limit, however long it stays open. Another user's request answers 404.");
        return bookings;
    }

    public static async Task<Results<RequestEventStream, ProblemHttpResult>> StreamRequestEvents(
        long requestId, ClaimsPrincipal user, [FromHeader(Name = "Last-Event-ID")] string? lastEventId,
        BookingQueue queue, HttpContext context, QueueWatch watch, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        // Whatever the endpoint takes lives as long as the stream: the database (a pooled context) only when Redis does not
        // know the request, which is then answered and the stream ends at once.
        var state = await BookingsApi.ReadRequestAsync(requestId, user.UserId(), queue,
            () => context.RequestServices.GetRequiredService<EventlyDbContext>(), cancellationToken);
        return state is null
            ? Problems.From(BookingErrors.RequestNotFound)
            : new RequestEventStream(state, long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var mark) ? mark : null,
                watch, json.Value.SerializerOptions);
    }

    /// <summary>The stream itself: written until the answer, or until the client goes.</summary>
    public sealed class RequestEventStream(
        QueuedRequestState state, long? resumeAfter, QueueWatch watch, JsonSerializerOptions json) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var response = context.Response;
            response.ContentType = MediaType;
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            var ct = context.RequestAborted;
            try
            {
                await response.Body.FlushAsync(ct);
                await FollowAsync(response, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The client went.
            }
            catch (Exception ex) when (RedisConnection.IsOutage(ex))
            {
                // Ends the stream: the client reconnects with Last-Event-ID, and reads the database's answer if Redis stays away.
            }
        }

        private async Task FollowAsync(HttpResponse response, CancellationToken ct)
        {
            var current = state;
            if (current.Status != BookingRequestStatus.Queued)
            {
                await WriteAsync(response, "answer", "answer", current, ct);
                return;
            }
            using var follower = watch.Join(current.EventId, current.RequestId);
            (long? Position, int? Wait, DateTime? OpensAt)? sent = null;
            var writtenAt = DateTime.UtcNow;
            var sentAtTick = -1L;
            while (true)
            {
                var woken = follower.Woken;
                if (follower.Answer is { } answer)
                {
                    await WriteAsync(response, "answer", "answer", current with
                    {
                        Status = answer.Status, BookingId = answer.BookingId, Reason = answer.Reason, Position = null,
                        EstimatedWaitSeconds = null, OpensAt = null
                    }, ct);
                    return;
                }
                if (current.Sequence is null && follower.Placed is { } placed)
                {
                    current = current with { Sequence = placed, OpensAt = null };
                }
                if (follower.Figures is { } figures)
                {
                    // Its turn has come, or the pre-queue was placed, and the announcement did not reach this replica: one read of its own.
                    if ((current.Sequence is { } seq && figures.Answered >= seq) || (current.Sequence is null && figures.OpensAt is null))
                    {
                        current = await follower.ReadRequestAsync(ct) ?? current;
                        if (current.Status != BookingRequestStatus.Queued)
                        {
                            await WriteAsync(response, "answer", "answer", current, ct);
                            return;
                        }
                    }
                    var place = current.Sequence is { } sequence
                        ? current with { Position = figures.PositionOf(sequence), EstimatedWaitSeconds = figures.EstimatedWaitSeconds(figures.PositionOf(sequence)), OpensAt = null }
                        : current with { Position = null, EstimatedWaitSeconds = null, OpensAt = figures.OpensAt ?? current.OpensAt };
                    var mark = current.Sequence is null ? 0 : figures.Answered;
                    if ((place.Position, place.EstimatedWaitSeconds, place.OpensAt) != sent && !(sent is null && resumeAfter >= mark))
                    {
                        if (sent is not null && follower.Ticks == sentAtTick)
                        {
                            // At most one position per tick of the watch (a second apart): its next tick brings this one.
                            follower.WakeAtNextTick();
                        }
                        else
                        {
                            await WriteAsync(response, "position", mark.ToString(CultureInfo.InvariantCulture), place, ct);
                            (sent, sentAtTick, writtenAt) = ((place.Position, place.EstimatedWaitSeconds, place.OpensAt), follower.Ticks, DateTime.UtcNow);
                        }
                    }
                }
                if (DateTime.UtcNow - writtenAt >= KeepAlive - QueueWatch.IdleWake)
                {
                    await response.WriteAsync(": keep-alive\n\n", ct);
                    writtenAt = DateTime.UtcNow;
                }
                // The watch wakes every stream at least every IdleWake: no timer per stream.
                await woken.WaitAsync(ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                ct.ThrowIfCancellationRequested();
            }
        }

        private async Task WriteAsync(HttpResponse response, string type, string id, QueuedRequestState request, CancellationToken ct)
        {
            // One write, which flushes: a second flush meets the connection's sender reading the same pipe, and the two
            // spin on its lock (a quarter of a stream replica's CPU during an on-sale, when every stream writes each second).
            var data = JsonSerializer.Serialize(BookingRequestResponse.From(request), json);
            await response.WriteAsync($"event: {type}\nid: {id}\ndata: {data}\n\n", ct);
        }
    }
}
