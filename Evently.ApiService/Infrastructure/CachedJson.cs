using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace Evently.ApiService.Infrastructure;

/// <summary>
/// A 200 whose JSON body was serialized once, when it was cached (see Events/EventReads): a cache hit writes
/// bytes instead of serializing the same page again. Documented in OpenAPI as the <typeparamref name="T"/> it holds.
/// </summary>
public sealed class CachedJson<T>(ReadOnlyMemory<byte> utf8Json) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        httpContext.Response.ContentLength = utf8Json.Length;
        return httpContext.Response.Body.WriteAsync(utf8Json).AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
}
