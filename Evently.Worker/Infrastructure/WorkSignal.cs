using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Worker.Infrastructure;

/// <summary>
/// Wakes the worker's loops when there is work: a nudge from the API over Redis pub/sub, or a loop of this
/// worker that just made work for the others (an offer to mail, an offer to expire).
/// </summary>
public sealed class WorkSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next wake-up. Take it before a pass, so that a wake-up during the pass is not missed.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Wake() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

/// <summary>
/// Subscribes the signal to the API's nudges; StackExchange.Redis renews the subscription after a reconnect, and a
/// reconnect wakes the loops too, so that the booking queue's drain resumes at once when Redis is back.
/// </summary>
public sealed class WorkSubscription(IConnectionMultiplexer redis, WorkSignal signal, ILogger<WorkSubscription> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += (_, _) => signal.Wake();
        var subscriber = redis.GetSubscriber();
        var channel = RedisChannel.Literal(WorkChannel.Name);
        Action<RedisChannel, RedisValue> nudged = (_, _) => signal.Wake();
        var warned = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await subscriber.SubscribeAsync(channel, nudged);
                return;
            }
            catch (Exception ex) when (redis.MarkOutage(ex))
            {
                if (!warned)
                {
                    logger.LogWarning(ex, "Could not subscribe to the API's nudges yet; the loops poll meanwhile");
                    warned = true;
                }
                await ForgetAsync(subscriber, channel, nudged);
                await Task.Delay(RedisConnection.SkipAfterOutage, stoppingToken);
            }
        }
    }

    // A failed attempt keeps its handler: take it off, so that the next one does not make it two.
    private async Task ForgetAsync(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler)
    {
        try
        {
            await subscriber.UnsubscribeAsync(channel, handler, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            // Off this process's list all the same.
        }
    }
}
