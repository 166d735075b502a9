using Microsoft.AspNetCore.Http.Timeouts;

namespace Evently.ApiService.Infrastructure;

/// <summary>
/// Every request has a deadline (3 s unless 'Evently:Requests:TimeoutSeconds' says otherwise): past it, its
/// database work is cancelled and it answers 503 with Retry-After, so a database that hangs costs callers
/// seconds, not minutes.
/// </summary>
public static class RequestDeadline
{
    public static void AddEventlyRequestDeadline(this IHostApplicationBuilder builder)
    {
        var seconds = builder.Configuration.GetValue("Evently:Requests:TimeoutSeconds", 3.0);
        builder.Services.AddRequestTimeouts(options => options.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = TimeSpan.FromSeconds(seconds),
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
            WriteTimeoutResponse = WriteUnavailableAsync
        });
    }

    /// <summary>Whether the request's own deadline (not the client) cut it short.</summary>
    public static bool HasPassed(HttpContext context) =>
        context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true;

    internal static async Task WriteUnavailableAsync(HttpContext context)
    {
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = Problems.TypeBase + "unavailable",
                Title = "Service unavailable",
                Detail = "The request did not finish in time: the database or the service is busy; try again shortly. A change may or may not have been made: " +
                    "repeat a booking with the same Idempotency-Key to find out without booking twice.",
                Extensions = { ["code"] = "unavailable" }
            }
        });
    }
}
