using System.Globalization;
using System.Text.Json;
using Evently.ApiService.Auth;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Bookings;
using Evently.Domain.Infrastructure;
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
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableRequestTimeout()
            .WithSummary("Follow a queued booking request live (server-sent events)")
            .WithDescription("A text/event-stream of the caller's request. Every event's data is the BookingRequest as " +
                "GET /api/bookings/requests/{requestId} answers it. 'position' events come when the position or the wait estimate " +
                "changes, at most once a second (while in the pre-queue: one with opensAt and no position; a replica holding more than 5,000 " +
                "streams of one event gives them their positions in turn, 5,000 a second); then one 'answer' event " +
                "(confirmed or rejected) and the stream ends. Each event's id is the event's count of answered requests " +
                "('answer' for the answer): reconnect with Last-Event-ID to receive only what changed since. A comment line " +
                "(': keep-alive') every 15 s keeps proxies from closing an idle stream. Opening a stream counts once against the " +
                "caller's rate limit, however long it stays open. Another user's request answers 404; 503 with Retry-After while the queue " +
                "is unavailable and the request is not answered yet.");
        return bookings;
    }

    // Returns at once: the stream reads its request when it starts. An open stream holds its connection and this one
    // result, not also the handler's and the endpoint's suspended tasks (a replica holds 10,000 of them in an on-sale).
    public static RequestEventStream StreamRequestEvents(long requestId, [FromHeader(Name = "Last-Event-ID")] string? lastEventId) =>
        new(requestId, long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out var mark) ? mark : null);

    /// <summary>The stream itself: the caller's request (404 if it is not theirs), then written until the answer, or until the client goes.</summary>
    public sealed class RequestEventStream(long requestId, long? resumeAfter) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var ct = context.RequestAborted;
            var services = context.RequestServices;
            var queue = services.GetRequiredService<BookingQueue>();
            // Whatever the stream takes lives as long as it: the database (a pooled context) only when Redis does not
            // know the request, which is then answered and the stream ends at once.
            var state = await BookingsApi.ReadRequestAsync(requestId, context.User.UserId(), queue,
                services.GetRequiredService<EventlyDbContext>, ct);
            if (state is null)
            {
                await Problems.From(BookingErrors.RequestNotFound).ExecuteAsync(context);
                return;
            }

            var response = context.Response;
            response.ContentType = MediaType;
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            var json = services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            try
            {
                await response.Body.FlushAsync(ct);
                await FollowAsync(state, services.GetRequiredService<QueueWatch>(), response, json, ct);
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

        private async Task FollowAsync(QueuedRequestState current, QueueWatch watch, HttpResponse response, JsonSerializerOptions json, CancellationToken ct)
        {
            if (current.Status != BookingRequestStatus.Queued)
            {
                await WriteAsync(response, "answer", "answer", current, json, ct);
                return;
            }
            using var follower = watch.Join(current.EventId, current.RequestId);
            // One registration for the stream's life rather than one per wait: a client that goes wakes its stream.
            using var wakeWhenGone = ct.UnsafeRegister(static follower => ((QueueWatch.Follower)follower!).Wake(), follower);
            (long? Position, int? Wait, DateTime? OpensAt)? sent = null;
            var writtenAt = DateTime.UtcNow;
            var sentAtTick = -1L;
            while (true)
            {
                var woken = follower.Woken;
                ct.ThrowIfCancellationRequested();
                if (follower.Answer is { } answer)
                {
                    await WriteAsync(response, "answer", "answer", current with
                    {
                        Status = answer.Status, BookingId = answer.BookingId, Reason = answer.Reason, Position = null,
                        EstimatedWaitSeconds = null, OpensAt = null
                    }, json, ct);
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
                            await WriteAsync(response, "answer", "answer", current, json, ct);
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
                            await WriteAsync(response, "position", mark.ToString(CultureInfo.InvariantCulture), place, json, ct);
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
                await woken;
            }
        }

        private static async Task WriteAsync(HttpResponse response, string type, string id, QueuedRequestState request, JsonSerializerOptions json, CancellationToken ct)
        {
            // One write, which flushes: a second flush meets the connection's sender reading the same pipe, and the two
            // spin on its lock (a quarter of a stream replica's CPU during an on-sale, when every stream writes each second).
            var data = JsonSerializer.Serialize(BookingRequestResponse.From(request), json);
            await response.WriteAsync($"event: {type}\nid: {id}\ndata: {data}\n\n", ct);
        }
    }
}
