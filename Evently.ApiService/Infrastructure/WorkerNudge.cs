using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.ApiService.Infrastructure;

/// <summary>
/// Wakes the worker after a commit that left it work (an outbox row, a notification to mail), so that an
/// offer follows a cancel within a second without the worker polling the database that often. A lost
/// nudge only delays the work until the worker's next regular look.
/// </summary>
public sealed class WorkerNudge(IConnectionMultiplexer redis, ILogger<WorkerNudge> logger)
{
    public async ValueTask WakeAsync()
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(WorkChannel.Name), "work", CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            logger.LogWarning(ex, "Could not wake the worker; it will find the work on its next look");
        }
    }
}
