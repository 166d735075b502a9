using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Worker.Infrastructure;

// Says at start-up whether the worker reaches MySQL and Redis, so a misconfigured deployment shows up in the
// dashboard at once rather than at the first queued booking. Neither is required to start: offers, expiries and
// mail need only the database and wait for it, and only the booking queue's drain waits for Redis.
public sealed class InfrastructureCheck(
    IServiceScopeFactory scopeFactory,
    IConnectionMultiplexer redis,
    ILogger<InfrastructureCheck> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EventlyDbContext>();

        var databaseReachable = await db.Database.CanConnectAsync(stoppingToken);
        try
        {
            var redisLatency = await redis.GetDatabase().PingAsync();
            logger.LogInformation("Worker started: database reachable {DatabaseReachable}, Redis ping {RedisLatency} ms",
                databaseReachable, redisLatency.TotalMilliseconds);
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            logger.LogWarning(ex, "Worker started: database reachable {DatabaseReachable}, Redis unavailable; offers, expiries and " +
                "mail go on, the booking queue is drained once Redis is back", databaseReachable);
        }
    }
}
