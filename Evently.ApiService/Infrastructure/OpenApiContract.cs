using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Evently.ApiService.Infrastructure;

// Makes the document say what the API really answers, so that a generated client or a validator
// replaying traffic agrees with the server: the answers every route can give (a rate limit, an
// unavailable database, a body that is not JSON), the Location header of the answers that carry one, the
// 'code' that problem details carry, and that enums are strings.
internal sealed class OpenApiContract : IOpenApiDocumentTransformer, IOpenApiOperationTransformer, IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        // No server: the one the document was fetched from ("/", as OpenAPI reads a missing list), so the
        // document is the same wherever it is fetched and a client generated from it names no address.
        document.Servers = null;
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.Responses ??= new OpenApiResponses();
        if (operation.RequestBody is not null)
        {
            const string badRequest = "Malformed JSON (a number must be a JSON number, not a string), or fields that are missing or invalid (see 'errors').";
            if (!operation.Responses.TryAdd("400", Problem(context.Document, badRequest)) && operation.Responses["400"] is OpenApiResponse validation)
            {
                validation.Description = badRequest;
            }
            operation.Responses.TryAdd("415", Problem(context.Document, "The body is not sent as application/json."));
        }
        operation.Responses.TryAdd("429", Problem(context.Document, "A rate limit was reached: wait as long as Retry-After says.", withRetryAfter: true));
        // Every route may meet a database that is down; the routes that declare a 503 of their own need Redis too.
        var unavailable = Problem(context.Document, "The database (or, for the booking queue, Redis) is unavailable right now: " +
            "retry after Retry-After seconds.", withRetryAfter: true);
        if (!operation.Responses.TryAdd("503", unavailable) && operation.Responses["503"] is OpenApiResponse declared)
        {
            declared.Description = unavailable.Description;
            declared.Headers = unavailable.Headers;
        }

        foreach (var location in context.Description.ActionDescriptor.EndpointMetadata.OfType<LocationHeader>())
        {
            if (operation.Responses.TryGetValue(location.StatusCode.ToString(), out var response) && response is OpenApiResponse answer)
            {
                answer.Headers ??= new Dictionary<string, IOpenApiHeader>();
                answer.Headers["Location"] = new OpenApiHeader
                {
                    Description = location.Description,
                    Required = true,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri-reference" }
                };
            }
        }
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        // Enums are written as strings (see Extensions.EnumNaming): say so beside their values.
        if (context.JsonTypeInfo.Type.IsEnum && schema.Enum is { Count: > 0 } && schema.Type is null)
        {
            schema.Type = JsonSchemaType.String;
        }
        if (context.JsonPropertyInfo is null && context.JsonTypeInfo.Type.IsAssignableTo(typeof(ProblemDetails)))
        {
            schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
            schema.Properties["code"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "The stable error code that the 'type' URI ends in, such as sold-out or seat-taken (see Problems)."
            };
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

/// <summary>Endpoint metadata: the answer with this status carries a Location header, described so.</summary>
public sealed record LocationHeader(int StatusCode, string Description);

public static class LocationHeaderExtensions
{
    /// <summary>Documents the Location header that the answer with <paramref name="statusCode"/> carries.</summary>
    public static RouteHandlerBuilder ProducesLocation(this RouteHandlerBuilder builder, int statusCode, string description) =>
        builder.WithMetadata(new LocationHeader(statusCode, description));
}
