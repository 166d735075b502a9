using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Evently.ApiService.Infrastructure;

// Turns exceptions into problem details: the client's own mistakes (malformed JSON, a value that
// does not bind) keep their 4xx status and say what was wrong, write contention that outlived its
// retries is a 409, and anything else is a bare 500.
internal sealed class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException badRequest)
        {
            context.Response.StatusCode = badRequest.StatusCode;
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = badRequest.StatusCode,
                    Title = "The request is malformed.",
                    Detail = badRequest.InnerException is System.Text.Json.JsonException json
                        ? $"{badRequest.Message} {json.Message}"
                        : badRequest.Message
                },
                Exception = exception
            });
        }

        if (exception is RetryLimitExceededException or DbUpdateConcurrencyException)
        {
            // Contention that outlived the bounded retries: the request may simply be tried again.
            logger.LogWarning(exception, "Gave up on a write after repeated conflicts");
            context.Response.StatusCode = StatusCodes.Status409Conflict;
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status409Conflict,
                    Type = Problems.TypeBase + "concurrent-update",
                    Title = "Concurrent update",
                    Detail = "The data changed under this request too many times in a row; try again.",
                    Extensions = { ["code"] = "concurrent-update" }
                }
            });
        }

        logger.LogError(exception, "Unhandled exception");
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred.",
                Detail = "The error has been logged."
            }
        });
    }
}
