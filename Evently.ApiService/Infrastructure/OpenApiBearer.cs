using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Evently.ApiService.Infrastructure;

// Declares the bearer scheme and marks the operations that need a token, so Scalar offers
// an Authorization field and the document says which calls answer 401/403.
internal sealed class OpenApiBearer : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string SchemeName = "Bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The accessToken from POST /api/auth/login."
        };
        document.Info.Title = "Evently API";
        document.Info.Description = "Browse events, book tickets without overselling, join waitlists. " +
            "Errors are RFC 9457 problem details; the 'type' URI ends in a stable code such as sold-out " +
            "(also given as 'code'). Any call may answer 429 with a Retry-After header when a rate limit is reached. " +
            "Admins see the analytics as charts, and any event's seat map, on the [admin page](/admin).";
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
        {
            return Task.CompletedTask;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = []
        });
        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("401", OpenApiContract.Problem(context.Document, "Missing or invalid bearer token."));
        if (metadata.OfType<IAuthorizeData>().Any(a => a.Policy is not null || a.Roles is not null))
        {
            operation.Responses.TryAdd("403", OpenApiContract.Problem(context.Document, "The caller's role may not do this."));
        }
        return Task.CompletedTask;
    }
}
