using System.Text.Json;

namespace Evently.Soak.Client;

/// <summary>
/// How one logical request ended, after its retries: the last status (<see cref="NoResponse"/> when none came
/// back), its JSON body, and whether the client gave up (its effect is then unknown).
/// </summary>
internal sealed record Answer(int Status, JsonElement? Body, bool GaveUp, int Attempts)
{
    public const int NoResponse = 0;

    public bool Is(int status) => Status == status && !GaveUp;

    /// <summary>The problem code of a 4xx (<c>sold-out</c>, <c>seat-taken</c>...), if any.</summary>
    public string? Code => Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("code", out var code)
        ? code.GetString()
        : null;

    public long Long(string property) => Body!.Value.GetProperty(property).GetInt64();

    public string? Text(string property) =>
        Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public long? OptionalLong(string property) =>
        Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetInt64()
            : null;

    /// <summary>The ids of a booking's seats (<c>seats[].id</c>).</summary>
    public IReadOnlyList<long> SeatIds() => Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("seats", out var seats)
        ? seats.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()).Order().ToList()
        : [];

    /// <summary>The elements of a page (<c>items</c>) or of a plain array.</summary>
    public IEnumerable<JsonElement> Items() => Body switch
    {
        { ValueKind: JsonValueKind.Array } array => array.EnumerateArray(),
        { ValueKind: JsonValueKind.Object } page when page.TryGetProperty("items", out var items) => items.EnumerateArray(),
        _ => []
    };
}
