using System.Text.Json;
using Evently.Domain.Infrastructure;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace Evently.ApiService.Infrastructure;

// Turns exceptions into problem details: the client's own mistakes (malformed JSON, a value that does
// not bind) keep their 4xx status and say what was wrong; write contention that outlived its retries
// is a 409, and a database that stayed unreachable or a Redis that cannot serve a 503, all worth retrying;
// anything else is a bare 500.
internal sealed class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException badRequest)
        {
            return await WriteAsync(context, badRequest.StatusCode, "malformed-request", "The request is malformed.",
                badRequest.InnerException is JsonException json ? $"{badRequest.Message} {json.Message}" : badRequest.Message);
        }
        if (IsContention(exception))
        {
            logger.LogWarning(exception, "Gave up on a write after repeated conflicts");
            return await WriteAsync(context, StatusCodes.Status409Conflict, "concurrent-update", "Concurrent update",
                "The data changed under this request too many times in a row; try again.");
        }
        if (IsConstraintViolation(exception))
        {
            // The database refused a write that would break an invariant (a CHECK constraint): nothing was
            // changed, and the client may retry. A bug, but never a 500 for the caller.
            logger.LogError(exception, "A write broke a database constraint and was refused");
            return await WriteAsync(context, StatusCodes.Status409Conflict, "concurrent-update", "Concurrent update",
                "The data changed under this request; nothing was changed. Try again.");
        }
        if (RequestDeadline.HasPassed(context) || exception is MySqlException { IsTransient: true })
        {
            logger.LogWarning(exception, "The database did not answer within the request's deadline");
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await RequestDeadline.WriteUnavailableAsync(context);
            return true;
        }
        if (RedisConnection.IsOutage(exception))
        {
            // What needs Redis and has no way around it (the on-sale's live figures) waits for it, as a request for a
            // database that is down does.
            logger.LogWarning(exception, "Redis could not serve this request");
            context.Response.Headers.RetryAfter = "5";
            return await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "unavailable", "Service unavailable",
                "A service this request needs is unavailable right now; try again shortly.");
        }
        if (exception is RetryLimitExceededException)
        {
            logger.LogError(exception, "The database stayed unavailable through every retry");
            context.Response.Headers.RetryAfter = "5";
            return await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "unavailable", "Service unavailable",
                "The database is unavailable right now; try again shortly.");
        }

        logger.LogError(exception, "Unhandled exception");
        return await WriteAsync(context, StatusCodes.Status500InternalServerError, "internal-error",
            "An unexpected error occurred.", "The error has been logged.");
    }

    private static bool IsContention(Exception exception) => exception switch
    {
        DbUpdateConcurrencyException => true,
        MySqlException { ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout } => true,
        { InnerException: { } inner } => IsContention(inner),
        _ => false
    };

    private static bool IsConstraintViolation(Exception exception) => exception switch
    {
        MySqlException mySql when mySql.IsCheckViolation() => true,
        { InnerException: { } inner } => IsConstraintViolation(inner),
        _ => false
    };

    private async ValueTask<bool> WriteAsync(HttpContext context, int status, string code, string title, string detail)
    {
        context.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = status,
                Type = Problems.TypeBase + code,
                Title = title,
                Detail = detail,
                Extensions = { ["code"] = code }
            }
        });
    }
}
