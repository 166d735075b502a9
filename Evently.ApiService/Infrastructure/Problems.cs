using Evently.Domain.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Evently.ApiService.Infrastructure;

// The one place where domain errors become HTTP answers. The problem type URI ends in the error's
// stable code (e.g. .../problems/sold-out), which is also given as the 'code' extension.
public static class Problems
{
    public const string TypeBase = "https://evently.dev/problems/";

    public static ProblemHttpResult From(DomainError error) => TypedResults.Problem(
        statusCode: error.Kind switch
        {
            ErrorKind.NotFound => StatusCodes.Status404NotFound,
            ErrorKind.Unauthorized => StatusCodes.Status401Unauthorized,
            ErrorKind.Conflict => StatusCodes.Status409Conflict,
            ErrorKind.Invalid => StatusCodes.Status400BadRequest,
            ErrorKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
            _ => StatusCodes.Status500InternalServerError
        },
        title: Title(error),
        detail: error.Message,
        type: TypeBase + error.Code,
        extensions: new Dictionary<string, object?>
        {
            ["code"] = error.Code,
            ["errors"] = error.Errors
        }.Concat(error.Extensions?.Select(e => KeyValuePair.Create(e.Key, (object?)e.Value)) ?? []).Where(e => e.Value is not null).ToDictionary());

    /// <summary>503 (with Retry-After, see AddApplicationServices): a dependency is down and nothing was done.</summary>
    public static ProblemHttpResult Unavailable(string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "Service unavailable",
        detail: detail,
        type: TypeBase + "unavailable",
        extensions: new Dictionary<string, object?> { ["code"] = "unavailable" });

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: "One or more fields are invalid; see 'errors'.",
            type: TypeBase + "validation");

    private static string Title(DomainError error) => error.Code switch
    {
        "not-found" => "Not found",
        _ => char.ToUpperInvariant(error.Code[0]) + error.Code[1..].Replace('-', ' ')
    };
}
