using Evently.Domain.Infrastructure;

namespace Evently.Worker.Infrastructure;

/// <summary>
/// One duty of the worker as a tiny loop: do a pass (in its own DI scope), then sleep until the pass's
/// next due time, a wake-up from <see cref="WorkSignal"/>, or the loop's longest sleep, whichever is first.
/// A failing pass (database or mail server down) is logged and retried with backoff; the host keeps running.
/// A pass that failed because Redis cannot serve (<see cref="RedisConnection.IsOutage(Exception)"/>) is tried
/// again every second instead, warning once, so that what waits for Redis resumes as soon as it is back.
/// </summary>
public abstract class WorkerLoop(IServiceScopeFactory scopes, WorkSignal signal, ILogger logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Wakes the other loops after a pass that made work for them.</summary>
    protected WorkSignal Signal => signal;

    /// <summary>Safety net for a lost nudge; a pass that knows better returns its own next due time.</summary>
    protected virtual TimeSpan LongestSleep => TimeSpan.FromSeconds(10);

    /// <summary>
    /// Repeats a step that handles one unit of work (one transaction) until it finds none, then wakes the
    /// other loops if it did anything (an offer made is a mail to send and an expiry to watch).
    /// </summary>
    /// <returns>Whether any step did work.</returns>
    protected async Task<bool> RepeatUntilDoneAsync(Func<CancellationToken, Task<bool>> step, CancellationToken cancellationToken)
    {
        var done = 0;
        while (!cancellationToken.IsCancellationRequested && await step(cancellationToken))
        {
            done++;
        }
        if (done > 0)
        {
            signal.Wake();
        }
        return done > 0;
    }

    /// <returns>How long the loop may sleep before the next pass, at most.</returns>
    protected abstract Task<TimeSpan> RunPassAsync(IServiceProvider services, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        var redisOutage = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var woken = signal.Next;
            TimeSpan sleep;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                sleep = await RunPassAsync(scope.ServiceProvider, stoppingToken);
                failures = 0;
                redisOutage = false;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && RedisConnection.IsOutage(ex))
            {
                if (!redisOutage)
                {
                    logger.LogWarning(ex, "{Loop} waits for Redis; trying again every {Sleep}", GetType().Name, RedisConnection.SkipAfterOutage);
                }
                redisOutage = true;
                sleep = RedisConnection.SkipAfterOutage;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                sleep = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, failures)));
                logger.LogWarning(ex, "{Loop} pass failed ({Failures} in a row); next try in {Sleep}", GetType().Name, failures, sleep);
                woken = Task.Delay(Timeout.Infinite, stoppingToken);
            }

            sleep = TimeSpan.FromTicks(Math.Clamp(sleep.Ticks, 0, LongestSleep.Ticks));
            if (sleep > TimeSpan.Zero)
            {
                try
                {
                    await Task.WhenAny(woken, Task.Delay(sleep, stoppingToken));
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
