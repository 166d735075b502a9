using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Evently.Domain.Infrastructure;

public sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
    value => value.Kind == DateTimeKind.Utc ? value : value.ToUniversalTime(),
    value => DateTime.SpecifyKind(value, DateTimeKind.Utc));
