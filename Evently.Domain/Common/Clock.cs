namespace Evently.Domain.Common;

public static class Clock
{
    /// <summary>
    /// Now, in UTC, at the precision MySQL stores (datetime(6), microseconds), so that what an API
    /// answers right after a write is exactly what later reads answer.
    /// </summary>
    public static DateTime UtcNow(this TimeProvider timeProvider) => ToStoredPrecision(timeProvider.GetUtcNow().UtcDateTime);

    public static DateTime ToStoredPrecision(DateTime value) =>
        new(value.Ticks - value.Ticks % 10, DateTimeKind.Utc);
}
