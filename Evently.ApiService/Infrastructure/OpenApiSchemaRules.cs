using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Evently.ApiService.Infrastructure;

// The rules a field of a request must meet are declared once, as DataAnnotations on the contract record's
// property (or on a handler's parameter), with the constants the validation code checks as their bounds:
// [Required], [Range], [StringLength], [Length], [EmailAddress], [DefaultValue], and the three below. ASP.NET
// writes [Range], the lengths, [RegularExpression] and [DefaultValue] into the schema itself; this writes
// the rest, so that the document states every rule the server enforces and a generator types each field
// exactly:
// - [Required]: present and never null (a record property is nullable so that a missing field is a 400
//   that names it, not a failure to read the body);
// - [EmailAddress]: format email; [UniqueItems]: uniqueItems; [EnumValues(typeof(T))]: enum, T's values (an
//   enum's, or a class's string constants);
// - a [Range] bound that is only the limit of the field's own type (e.g. [Range(1, long.MaxValue)]) is left
//   out rather than written as a rounded 9.2e18, and so is a minimum length of 0.
internal sealed class OpenApiSchemaRules : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var (attributes, type) = Declared(context);
        if (attributes.Count == 0)
        {
            return Task.CompletedTask;
        }

        if (attributes.OfType<RequiredAttribute>().Any() && schema.Type is { } jsonType)
        {
            schema.Type = jsonType & ~JsonSchemaType.Null;
        }
        if (attributes.OfType<EmailAddressAttribute>().Any())
        {
            schema.Format = "email";
        }
        if (attributes.OfType<UniqueItemsAttribute>().Any())
        {
            schema.UniqueItems = true;
        }
        if (attributes.OfType<EnumValuesAttribute>().FirstOrDefault() is { } allowed)
        {
            schema.Enum = allowed.Values.Select(value => (JsonNode)JsonValue.Create(value)).ToList();
        }
        if (attributes.OfType<RangeAttribute>().Any() && Limits(type) is var (min, max))
        {
            if (Number(schema.Minimum) <= min)
            {
                schema.Minimum = null;
            }
            if (Number(schema.Maximum) >= max)
            {
                schema.Maximum = null;
            }
        }
        if (schema.MinLength == 0)
        {
            schema.MinLength = null;
        }
        return Task.CompletedTask;
    }

    // A property's attributes, or a parameter's (an [AsParameters] record's property included).
    private static (List<Attribute> Attributes, Type? Type) Declared(OpenApiSchemaTransformerContext context)
    {
        if (context.JsonPropertyInfo is { AttributeProvider: { } provider } property)
        {
            return (provider.GetCustomAttributes(inherit: true).OfType<Attribute>().ToList(), property.PropertyType);
        }
        if (context.ParameterDescription?.ParameterDescriptor is IParameterInfoParameterDescriptor { ParameterInfo: { } parameter })
        {
            return (parameter.GetCustomAttributes(inherit: true).OfType<Attribute>().ToList(), parameter.ParameterType);
        }
        return ([], null);
    }

    private static (decimal Min, decimal Max)? Limits(Type? type) => (Nullable.GetUnderlyingType(type!) ?? type) switch
    {
        { } t when t == typeof(int) => (int.MinValue, int.MaxValue),
        { } t when t == typeof(long) => (long.MinValue, long.MaxValue),
        _ => null
    };

    private static decimal? Number(string? value) =>
        decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null;
}

/// <summary>Text that is not empty or only white space (the server trims it).</summary>
/// <remarks>Matches the whole value, as <see cref="RegularExpressionAttribute"/> wants, and is found anywhere
/// in it, as JSON Schema's <c>pattern</c> reads it.</remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class NotBlankAttribute() : RegularExpressionAttribute(@"[\s\S]*\S[\s\S]*");

/// <summary>
/// A string that is one of <paramref name="type"/>'s values (any case accepted): an enum's values as the API writes
/// them, or the string constants of a class such as <c>Roles</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class EnumValuesAttribute(Type type) : ValidationAttribute
{
    public IReadOnlyList<string> Values { get; } = type.IsEnum
        ? Enum.GetNames(type).Select(Extensions.EnumNaming.ConvertName).ToList()
        : type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!).ToList();

    public override bool IsValid(object? value) =>
        value is null || value is string text && Values.Contains(text, StringComparer.OrdinalIgnoreCase);
}

/// <summary>A list in which no value appears twice.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class UniqueItemsAttribute : ValidationAttribute
{
    public override bool IsValid(object? value) =>
        value is not System.Collections.IEnumerable items || items.Cast<object?>().GroupBy(item => item).All(g => g.Count() == 1);
}
