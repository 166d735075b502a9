using Microsoft.AspNetCore.Diagnostics;

namespace Evently.ApiService.Infrastructure;

// Turns exceptions into problem details: the client's own mistakes (malformed JSON, a value that
// does not bind) keep their 4xx status and say what was wrong; anything else is a bare 500.
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
