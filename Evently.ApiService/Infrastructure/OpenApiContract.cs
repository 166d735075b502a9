using Evently.ApiService.Bookings;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Evently.ApiService.Infrastructure;

// Makes the document say what the API really answers, so that a generated client or a validator
// replaying traffic agrees with the server: the answers every route can give (a rate limit, an
// unavailable database, a body that is not JSON), and the body whose fields are alternatives.
internal sealed class OpenApiContract : IOpenApiOperationTransformer, IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.Responses ??= new OpenApiResponses();
        if (operation.RequestBody is not null)
        {
            operation.Responses.TryAdd("400", Problem(context.Document, "Malformed JSON, or fields that are missing or invalid (see 'errors')."));
            operation.Responses.TryAdd("415", Problem(context.Document, "The body is not sent as application/json."));
        }
        operation.Responses.TryAdd("429", Problem(context.Document, "A rate limit was reached: wait as long as Retry-After says.", withRetryAfter: true));
        operation.Responses.TryAdd("503", Problem(context.Document, "The database is unavailable right now: retry after Retry-After seconds.", withRetryAfter: true));
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type == typeof(CreateBookingRequest))
        {
            // A quantity, or seats, or both when they agree: at least one of the two.
            schema.Required = new HashSet<string> { "eventId" };
            schema.AnyOf =
            [
                new OpenApiSchema { Required = new HashSet<string> { "quantity" } },
                new OpenApiSchema { Required = new HashSet<string> { "seatIds" } }
            ];
        }
        return Task.CompletedTask;
    }

    /// <summary>An answer with a problem details body.</summary>
    public static OpenApiResponse Problem(OpenApiDocument? document, string description, bool withRetryAfter = false) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", document) }
        },
        Headers = withRetryAfter
            ? new Dictionary<string, IOpenApiHeader>
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before trying again.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer }
                }
            }
            : null
    };
}
