using StackExchange.Redis;

namespace Evently.Domain.Events;

/// <summary>
/// The generation of cached event reads: a Redis counter that is part of every cached read's key, so that
/// incrementing it evicts them all at once. The API increments it after its own writes, the worker after the
/// writes it makes (queued bookings, offers, expiries), so that counts in event reads stay fresh.
/// </summary>
public static class EventReadsGeneration
{
    public const string Key = "evently:events:generation";

    /// <summary>Evicts every cached event read; a failure is logged by the caller's policy, not thrown at it.</summary>
    public static async Task<bool> TryIncrementAsync(IConnectionMultiplexer redis)
    {
        try
        {
            await redis.GetDatabase().StringIncrementAsync(Key);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            return false;
        }
    }
}
