using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.ApiService.Events;

/// <summary>
/// The generation of cached event reads, part of every cache key (<see cref="EventReads"/>). An admin change
/// increments a Redis counter and publishes the new value: every replica moves to new keys at once, an
/// eviction in O(1) with no scan, and a read that started before the change can only have stored its copy
/// under the old generation, which no read asks for again.
/// While Redis cannot serve (<see cref="RedisConnection.IsOutage(Exception)"/>) this replica moves to a local epoch of
/// its own instead (its reads see the change at once), tells the others to move to it too where Redis still
/// relays messages (a Redis that refuses writes still publishes; without that, their memory copies expire within a
/// second), and makes the increment as soon as Redis takes it, so that no copy stored in Redis before the change is
/// served again.
/// </summary>
public sealed class EventChanges(IConnectionMultiplexer redis, ILogger<EventChanges> logger) : IHostedService
{
    private const string GenerationKey = "evently:events:generation";
    private const string EpochNotice = "epoch:";
    private static readonly RedisChannel Channel = RedisChannel.Literal("evently:events:changed");
    // Never below Redis's clock in milliseconds: a Redis that lost the counter (a restart without persistence, a
    // flush) starts again above every generation handed out before, which replicas would otherwise ignore as old.
    private static readonly RedisScript IncrementAndPublish = new("""
        local generation = redis.call('INCR', KEYS[1])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        if generation < now then
          generation = now
          redis.call('SET', KEYS[1], generation)
        end
        redis.call('PUBLISH', ARGV[1], generation)
        return generation
        """);

    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private long _generation;
    // Changes committed since the last increment that Redis took: one increment covers them all.
    private int _pendingChanges;
    private volatile string _keyPrefix = "0.0";

    /// <summary>The prefix of every cached event read's key: the generation and the local epoch.</summary>
    public string KeyPrefix => _keyPrefix;

    /// <summary>After an admin change has committed: evicts every cached event read, in every replica.</summary>
    public async Task AnnounceAsync()
    {
        if (redis.IsUsable() && await TryIncrementAsync())
        {
            return;
        }
        logger.LogWarning("Redis cannot count an admin change now: event reads move to a local epoch until it does");
        // A new epoch for every change: the keys it names have never held a copy from before the change.
        var epoch = Guid.NewGuid().ToString("N");
        lock (_lock)
        {
            _pendingChanges++;
            MoveToEpoch(epoch);
        }
        try
        {
            await redis.GetSubscriber().PublishAsync(Channel, EpochNotice + epoch);
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            // Not relayed: the other replicas' memory copies expire within a second.
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionRestored += (_, args) =>
        {
            if (args.ConnectionType == ConnectionType.Interactive)
            {
                _ = CatchUpAsync();
            }
        };
        try
        {
            await redis.GetSubscriber().SubscribeAsync(Channel, (_, value) => OnNotice(value));
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            // StackExchange.Redis subscribes again by itself once connected.
            logger.LogWarning(ex, "Could not subscribe to event changes yet");
        }
        await CatchUpAsync();
        _ = RetryPendingIncrementAsync(_stopping.Token);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    // A Redis that refuses writes stays connected: nothing says when it takes them again but trying.
    private async Task RetryPendingIncrementAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(RedisConnection.SkipAfterOutage);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                if (Volatile.Read(ref _pendingChanges) > 0 && redis.IsUsable())
                {
                    await CatchUpAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    // On start, after a reconnect and while an increment is pending: make the increment a change could not make,
    // or learn the changes missed.
    private async Task CatchUpAsync()
    {
        int pending;
        lock (_lock)
        {
            pending = _pendingChanges;
        }
        if (pending > 0)
        {
            // An increment made now comes after those changes' commits; changes that fail meanwhile stay pending.
            if (await TryIncrementAsync())
            {
                lock (_lock)
                {
                    _pendingChanges -= pending;
                }
            }
            return;
        }
        try
        {
            var stored = await redis.GetDatabase().StringGetAsync(GenerationKey);
            Observe(stored.IsNull ? 0 : (long)stored);
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            logger.LogWarning(ex, "Could not read the event reads' generation; keeping {Prefix}", _keyPrefix);
        }
    }

    // Also on a reconnect, before the outage it ends is known to be over.
    private async Task<bool> TryIncrementAsync()
    {
        try
        {
            Observe((long)await IncrementAndPublish.EvaluateAsync(redis.GetDatabase(), [GenerationKey], [Channel.ToString()]));
            return true;
        }
        catch (Exception ex) when (redis.MarkOutage(ex))
        {
            logger.LogDebug(ex, "Redis did not take the event reads' generation increment");
            return false;
        }
    }

    private void OnNotice(RedisValue value)
    {
        var text = value.ToString();
        if (text.StartsWith(EpochNotice, StringComparison.Ordinal))
        {
            lock (_lock)
            {
                MoveToEpoch(text[EpochNotice.Length..]);
            }
            return;
        }
        Observe(long.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
    }

    private void MoveToEpoch(string epoch) => _keyPrefix = $"{_generation}.{epoch}";

    private void Observe(long generation)
    {
        lock (_lock)
        {
            if (generation <= _generation)
            {
                return;
            }
            _generation = generation;
            MoveToEpoch("0");
        }
    }
}
