using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Worker.Infrastructure;

// Confirms at start-up that the worker reaches MySQL and Redis, so a misconfigured deployment
// shows up in the dashboard at once rather than at the first queued booking.
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
        var redisLatency = await redis.GetDatabase().PingAsync();
        logger.LogInformation("Worker started: database reachable {DatabaseReachable}, Redis ping {RedisLatency} ms",
            databaseReachable, redisLatency.TotalMilliseconds);
    }
}
