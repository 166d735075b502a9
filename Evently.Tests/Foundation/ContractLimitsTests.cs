using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Evently.Tests.Foundation;

/// <summary>
/// The limits the document states (minimum, maximum, lengths, item counts, required and non-null, numbers
/// as numbers, the values of a query enum) are the limits the server enforces, both ways: a value just outside one is refused with a 400
/// that names the field, and a value on the edge is not refused for that field. The cases are derived from
/// the served document, so a rule added to a contract record is checked here without a new test.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ContractLimitsTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task A_string_where_a_number_belongs_is_a_400_problem_not_a_number()
    {
        using var user = await fixture.NewUserAsync();
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 5);

        var response = await user.PostBookingAsync(new { eventId = evt.Id.ToString(), quantity = "1" }, null);

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("malformed-request", problem.Code());
        Assert.Equal(0, (await fixture.ReadEventAsync(evt.Id)).Booked);
    }

    [Fact]
    public async Task Every_body_field_limit_in_the_document_is_the_limit_the_server_enforces()
    {
        var document = JsonNode.Parse(await fixture.Api.GetStringAsync("/openapi/v1.json"))!;
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var plain = await admin.CreateEventAsync(capacity: 1000);
        var seated = await admin.CreateEventAsync(capacity: 12,
            seating: new { sections = new[] { new { name = "Limits", rows = 2, seatsPerRow = 6 } } });
        var seatIds = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{seated.Id}/seats"))!.Select(s => s.Id).ToList();
        var soldOut = await admin.CreateEventAsync(capacity: 1);
        await admin.BookAsync(soldOut.Id, 1).BookedAsync();
        var event_ = TestApi.NewEventBody();

        // One valid body per operation (per alternative); each field it has is varied on its own. An operation
        // whose rules tie a field to others (seats exactly the booking's quantity) is checked one way only.
        var cases = new (string Method, string Path, HttpClient Caller, object Body, bool EdgesAllowed)[]
        {
            ("post", "/api/auth/register", fixture.Api, new { email = TestApi.UniqueEmail(), password = "password123", name = "Limits" }, true),
            ("post", "/api/auth/login", fixture.Api, new { email = TestApi.UniqueEmail(), password = "password123" }, true),
            ("post", "/api/events", admin.Http, event_, true),
            ("post", "/api/bookings", user.Http, new { eventId = plain.Id, quantity = 1 }, true),
            ("post", "/api/bookings", user.Http, new { eventId = seated.Id, seatIds = seatIds.Take(1) }, true),
            ("post", "/api/waitlist", user.Http, new { eventId = soldOut.Id, quantity = 1 }, true),
            ("post", "/api/bookings/{id}/seats", user.Http, new { seatIds = seatIds.Take(1) }, false),
        };
        var seatBooking = await user.BookSeatsAsync(seated.Id, seatIds.TakeLast(1)).BookedAsync();
        var mismatches = new List<string>();
        var probes = 0;

        foreach (var (method, path, caller, body, edgesAllowed) in cases)
        {
            var schema = Resolve(document, document["paths"]![path]![method]!["requestBody"]!["content"]!["application/json"]!["schema"]!);
            var valid = JsonSerializer.SerializeToNode(body, JsonOptions)!.AsObject();
            var url = path.Replace("{id}", seatBooking.Id.ToString());
            foreach (var (field, value, shouldRefuse, why) in Variants(schema, valid, seatIds))
            {
                if (!shouldRefuse && !edgesAllowed)
                {
                    continue;
                }
                var variant = valid.DeepClone().AsObject();
                if (ReferenceEquals(value, Missing))
                {
                    variant.Remove(field);
                }
                else
                {
                    variant[field] = ((JsonNode?)value)?.DeepClone();
                }
                using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url)
                {
                    Content = new StringContent(variant.ToJsonString(), Encoding.UTF8, "application/json")
                };
                using var response = await caller.SendAsync(request);
                probes++;
                var refusedForField = response.StatusCode == HttpStatusCode.BadRequest && await NamesAsync(response, field);
                if (shouldRefuse != refusedForField)
                {
                    mismatches.Add($"{method.ToUpperInvariant()} {path} {field}: {why} -> {(int)response.StatusCode} {Shorten(await response.Content.ReadAsStringAsync())}");
                }
            }
        }

        Assert.True(probes >= 60, $"only {probes} values were probed: the document states fewer limits than it should");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public async Task Every_query_parameter_limit_in_the_document_is_the_limit_the_server_enforces()
    {
        var document = JsonNode.Parse(await fixture.Api.GetStringAsync("/openapi/v1.json"))!;
        using var admin = await fixture.AdminAsync();
        var mismatches = new List<string>();
        var checkedCount = 0;

        foreach (var (path, item) in document["paths"]!.AsObject().Where(p => !p.Key.Contains('{')))
        {
            if (item!["get"]?["parameters"]?.AsArray() is not { } parameters)
            {
                continue;
            }
            foreach (var parameter in parameters.Where(p => p!["in"]!.GetValue<string>() == "query"))
            {
                var name = parameter!["name"]!.GetValue<string>();
                var schema = parameter["schema"]!;
                var probes = new List<(string Value, bool Refuse, string Why)>();
                foreach (var (bound, step) in new[] { ("minimum", -1), ("maximum", 1) })
                {
                    if (schema[bound]?.GetValue<long>() is { } edge)
                    {
                        probes.Add(($"{edge}", false, $"{bound} {edge}"));
                        probes.Add(($"{edge + step}", true, $"{bound} {edge}"));
                    }
                }
                if (schema["enum"] is JsonArray values)
                {
                    probes.AddRange(values.Select(v => (v!.GetValue<string>(), false, "one of the enum")));
                    probes.Add(("not-one-of-them", true, "not one of the enum"));
                }
                foreach (var (value, shouldRefuse, why) in probes)
                {
                    checkedCount++;
                    using var response = await admin.Http.GetAsync($"{path}?{name}={value}");
                    var refused = response.StatusCode == HttpStatusCode.BadRequest && await NamesAsync(response, name);
                    if (shouldRefuse != refused)
                    {
                        mismatches.Add($"GET {path}?{name}={value} ({why}) -> {(int)response.StatusCode}");
                    }
                }
            }
        }

        Assert.True(checkedCount >= 20, $"only {checkedCount} query limits were found in the document");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    // Stands for a field left out of the body.
    private static readonly object Missing = new();

    // The values that probe a field's limits: (field, value or Missing, whether the server must refuse it, why).
    private static IEnumerable<(string Field, object? Value, bool Refuse, string Why)> Variants(JsonObject schema, JsonObject valid, List<long> pool)
    {
        var required = schema["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];
        foreach (var (field, property) in schema["properties"]!.AsObject())
        {
            var types = Types(property!);
            if (required.Contains(field) && !types.Contains("null"))
            {
                yield return (field, null, true, "required and not null, sent null");
                yield return (field, Missing, true, "required, left out");
            }
            if (!valid.ContainsKey(field))
            {
                continue;
            }
            if (types.Contains("integer"))
            {
                yield return (field, JsonValue.Create(valid[field]!.ToJsonString()), true, "an integer, sent as a string");
                foreach (var (bound, step) in new[] { ("minimum", -1), ("maximum", 1) })
                {
                    if (property![bound]?.GetValue<long>() is { } edge)
                    {
                        yield return (field, JsonValue.Create(edge), false, $"{bound} {edge}, sent {edge}");
                        yield return (field, JsonValue.Create(edge + step), true, $"{bound} {edge}, sent {edge + step}");
                    }
                }
            }
            if (types.Contains("string"))
            {
                var format = property!["format"]?.GetValue<string>();
                if (property["maxLength"]?.GetValue<int>() is { } max)
                {
                    yield return (field, JsonValue.Create(Text(max, format)), false, $"maxLength {max}, sent {max}");
                    yield return (field, JsonValue.Create(Text(max + 1, format)), true, $"maxLength {max}, sent {max + 1}");
                }
                if (property["minLength"]?.GetValue<int>() is { } min and > 0)
                {
                    yield return (field, JsonValue.Create(Text(min, format)), false, $"minLength {min}, sent {min}");
                    yield return (field, JsonValue.Create(Text(min - 1, format)), true, $"minLength {min}, sent {min - 1}");
                }
                if (property["pattern"]?.GetValue<string>() is { } pattern)
                {
                    foreach (var blank in new[] { "", "   " }.Where(s => !Regex.IsMatch(s, pattern)))
                    {
                        yield return (field, JsonValue.Create(blank), true, $"pattern {pattern}, sent '{blank}'");
                    }
                }
            }
            if (types.Contains("array"))
            {
                if (property!["minItems"]?.GetValue<int>() is { } min)
                {
                    yield return (field, Items(pool, min), false, $"minItems {min}, sent {min}");
                    yield return (field, Items(pool, min - 1), true, $"minItems {min}, sent {min - 1}");
                }
                if (property["maxItems"]?.GetValue<int>() is { } max)
                {
                    yield return (field, Items(pool, max), false, $"maxItems {max}, sent {max}");
                    yield return (field, Items(pool, max + 1), true, $"maxItems {max}, sent {max + 1}");
                }
                if (property["uniqueItems"]?.GetValue<bool>() == true)
                {
                    yield return (field, new JsonArray(JsonValue.Create(pool[0]), JsonValue.Create(pool[0])), true, "uniqueItems, sent a value twice");
                }
            }
        }
    }

    private static HashSet<string> Types(JsonNode property) => property["type"] switch
    {
        JsonArray many => many.Select(t => t!.GetValue<string>()).ToHashSet(),
        JsonValue one => [one.GetValue<string>()],
        _ => []
    };

    // Text of a given length: where the format asks for an e-mail address, a valid one of that length
    // (a local part of at most 64 characters, host labels of at most 60).
    private static string Text(int length, string? format)
    {
        if (format != "email")
        {
            return new string('a', length);
        }
        const string domain = "example.com";
        var local = Math.Min(64, length - domain.Length - 1);
        var labels = new StringBuilder();
        for (var rest = length - local - domain.Length - 1; rest > 0;)
        {
            var take = Math.Min(60, rest - 1 == 60 ? 59 : rest);
            labels.Append('h', take - 1).Append('.');
            rest -= take;
        }
        return $"{new string('u', local)}@{labels}{domain}";
    }

    private static JsonArray Items(List<long> pool, int count) => new(pool.Take(count).Select(id => (JsonNode)JsonValue.Create(id)).ToArray());

    private static JsonObject Resolve(JsonNode document, JsonNode schema) =>
        schema["$ref"]?.GetValue<string>() is { } reference
            ? document["components"]!["schemas"]![reference.Split('/')[^1]]!.AsObject()
            : schema.AsObject();

    private static async Task<bool> NamesAsync(HttpResponseMessage response, string field)
    {
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync());
        // A body that cannot be read (a string for a number) is refused before any field is looked at.
        return problem?["code"]?.GetValue<string>() == "malformed-request"
            || problem?["errors"]?.AsObject().Any(e => string.Equals(e.Key, field, StringComparison.OrdinalIgnoreCase)) == true;
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
