using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// Checks real requests and answers against an OpenAPI 3.1 document, as an independent validator
/// replaying traffic would: the operation exists, every query parameter is documented under the name
/// used, the status and content type are documented, both bodies match their JSON schemas, and the answer
/// carries a Location header exactly when the document says it does.
/// </summary>
public sealed class OpenApiValidator
{
    private readonly JsonObject _document;
    private readonly JsonObject _definitions;
    private readonly List<(Regex Pattern, JsonObject Operations)> _paths;
    private readonly Dictionary<string, JsonSchema> _schemas = [];

    public OpenApiValidator(string documentJson)
    {
        // OpenAPI 3.1 schemas are JSON Schema 2020-12; their references to components become $defs,
        // so that each schema can be evaluated on its own with everything it refers to.
        _document = JsonNode.Parse(documentJson.Replace("\"#/components/schemas/", "\"#/$defs/"))!.AsObject();
        _definitions = _document["components"]?["schemas"]?.AsObject() ?? [];
        _paths = _document["paths"]!.AsObject()
            .Select(path => (new Regex("^" + Regex.Replace(Regex.Escape(path.Key), @"\\\{[^/]+?}", "[^/]+") + "$"),
                path.Value!.AsObject()))
            .ToList();
    }

    /// <returns>What does not match the document; empty when everything does.</returns>
    public IEnumerable<string> Check(Exchange exchange)
    {
        var name = $"{exchange.Method} {exchange.Path}{exchange.Query} -> {exchange.Status}";
        var operations = _paths.FirstOrDefault(p => p.Pattern.IsMatch(exchange.Path)).Operations;
        if (operations?[exchange.Method.ToLowerInvariant()] is not JsonObject operation)
        {
            // Routes outside the contract (health, documentation) and unknown addresses are not operations.
            if (exchange.Path.StartsWith("/api/") && exchange.Status != 404 && exchange.Status != 405)
            {
                yield return $"{name}: no such operation in the document";
            }
            yield break;
        }

        var documented = (operation["parameters"]?.AsArray() ?? [])
            .Where(p => p!["in"]!.GetValue<string>() == "query").Select(p => p!["name"]!.GetValue<string>()).ToHashSet();
        foreach (var key in QueryKeys(exchange.Query).Where(key => !documented.Contains(key)))
        {
            yield return $"{name}: query parameter '{key}' is not documented (documented: {string.Join(", ", documented)})";
        }

        if (exchange.RequestBody is { Length: > 0 } requestBody && exchange.RequestContentType == "application/json")
        {
            if (operation["requestBody"]?["content"]?["application/json"]?["schema"] is not { } schema)
            {
                yield return $"{name}: the document takes no JSON body";
            }
            else if (exchange.Status is >= 200 and < 300 && Validate(schema, requestBody) is { } error)
            {
                // An accepted request must match the document; a refused one may be the test of a bad body.
                yield return $"{name}: the request body {requestBody} does not match the schema: {error}";
            }
        }

        var responses = operation["responses"]!.AsObject();
        if ((responses[exchange.Status.ToString()] ?? responses["default"]) is not { } response)
        {
            yield return $"{name}: status {exchange.Status} is not documented (documented: {string.Join(", ", responses.Select(r => r.Key))})";
            yield break;
        }
        var location = response["headers"]?["Location"];
        if (location?["required"]?.GetValue<bool>() == true && exchange.Location is null)
        {
            yield return $"{name}: the answer has no Location header, which the document says it carries";
        }
        else if (location is null && exchange.Location is not null)
        {
            yield return $"{name}: the answer's Location header ({exchange.Location}) is not documented";
        }
        if (exchange.ResponseBody is { } responseBody && exchange.ResponseContentType is { } contentType)
        {
            if (response["content"]?[contentType]?["schema"] is not { } schema)
            {
                yield return $"{name}: the answer's {contentType} body is not documented";
            }
            else if (Validate(schema, responseBody) is { } error)
            {
                yield return $"{name}: the answer {Shorten(responseBody)} does not match the schema: {error}";
            }
        }
    }

    private string? Validate(JsonNode schemaNode, string json)
    {
        var key = schemaNode.GetPath();
        if (!_schemas.TryGetValue(key, out var schema))
        {
            var root = schemaNode.DeepClone().AsObject();
            root["$defs"] = _definitions.DeepClone();
            _schemas[key] = schema = JsonSchema.FromText(root.ToJsonString());
        }

        var result = schema.Evaluate(JsonNode.Parse(json), new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid ? null : string.Join("; ", (result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Key}: {e.Value}"))
            .Take(5));
    }

    private static IEnumerable<string> QueryKeys(string query) => query.TrimStart('?')
        .Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(pair => Uri.UnescapeDataString(pair.Split('=')[0]))
        .Distinct();

    private static string Shorten(string json) => json.Length <= 300 ? json : json[..300] + "...";
}
