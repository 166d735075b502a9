using System.Security.Claims;
using Evently.ApiService.Auth;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Notifications;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Evently.ApiService.Notifications;

public sealed record NotificationResponse(
    long Id, [property: EnumValues(typeof(NotificationKinds))] string Kind, long? EventId, string Message, DateTime CreatedAt, DateTime? ReadAt)
{
    public static NotificationResponse From(Notification n) => new(n.Id, n.Kind, n.EventId, n.Message, n.CreatedAt, n.ReadAt);
}

public static class NotificationsApi
{
    public static IEndpointRouteBuilder MapNotificationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("api/notifications").WithTags("Notifications").RequireAuthorization();

        api.MapGet("/", ListNotifications)
            .WithName("ListNotifications")
            .WithSummary("The caller's notifications, newest first")
            .WithDescription("Kinds: waitlist-offer, offer-expired, booking-confirmed, booking-rejected, event-cancelled, event-changed. " +
                "Each is also e-mailed by the worker.");

        api.MapPost("/{id:long}/read", MarkRead)
            .WithName("MarkNotificationRead")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Mark a notification read");

        return app;
    }

    public static async Task<Results<Ok<PageResult<NotificationResponse>>, ValidationProblem>> ListNotifications(
        [AsParameters] PageRequest paging, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken)
    {
        var errors = paging.Validate();
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var (items, total) = await notifications.ListAsync(user.UserId(), paging.Skip, paging.Size, cancellationToken);
        return TypedResults.Ok(new PageResult<NotificationResponse>(
            items.Select(NotificationResponse.From).ToList(), paging.PageNumber, paging.Size, total));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> MarkRead(
        long id, ClaimsPrincipal user, NotificationService notifications, CancellationToken cancellationToken)
    {
        var result = await notifications.MarkReadAsync(id, user.UserId(), cancellationToken);
        return result.Succeeded ? TypedResults.NoContent() : Problems.From(result.Error!);
    }
}
