using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.ApiService.Events;

/// <summary>
/// The generation of cached event reads, part of every cache key (<see cref="EventReads"/>). An admin change
/// increments a Redis counter and publishes the new value: every replica moves to new keys at once, an
/// eviction in O(1) with no scan, and a read that started before the change can only have stored its copy
/// under the old generation, which no read asks for again.
/// With Redis down this replica moves to a local epoch instead (its own reads see the change at once; other
/// replicas' memory copies expire within a second), and makes the increment once Redis is back, so that no
/// copy stored in Redis before the change is served again.
/// </summary>
public sealed class EventChanges(IConnectionMultiplexer redis, ILogger<EventChanges> logger) : IHostedService
{
    private const string GenerationKey = "evently:events:generation";
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
    private long _generation;
    private long _localEpoch;
    private bool _incrementPending;
    private volatile string _keyPrefix = "0.0";

    /// <summary>The prefix of every cached event read's key: the generation and this replica's local epoch.</summary>
    public string KeyPrefix => _keyPrefix;

    /// <summary>After an admin change has committed: evicts every cached event read, in every replica.</summary>
    public async Task AnnounceAsync()
    {
        try
        {
            Observe((long)await IncrementAndPublish.EvaluateAsync(redis.GetDatabase(), [GenerationKey], [Channel.ToString()]));
        }
        catch (Exception ex) when (RedisConnection.IsOutage(ex))
        {
            logger.LogWarning(ex, "Redis is unavailable: event reads are evicted in this replica now, in the others once Redis is back");
            lock (_lock)
            {
                _localEpoch++;
                _incrementPending = true;
                _keyPrefix = $"{_generation}.{_localEpoch}";
            }
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
            await redis.GetSubscriber().SubscribeAsync(Channel, (_, value) => Observe((long)value));
        }
        catch (Exception ex) when (RedisConnection.IsOutage(ex))
        {
            // StackExchange.Redis subscribes again by itself once connected.
            logger.LogWarning(ex, "Could not subscribe to event changes yet");
        }
        await CatchUpAsync();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // On start and after a reconnect: make the increment a change could not make, or learn the changes missed.
    private async Task CatchUpAsync()
    {
        try
        {
            bool pending;
            lock (_lock)
            {
                pending = _incrementPending;
                _incrementPending = false;
            }
            if (pending)
            {
                await AnnounceAsync();
                return;
            }
            var stored = await redis.GetDatabase().StringGetAsync(GenerationKey);
            Observe(stored.IsNull ? 0 : (long)stored);
        }
        catch (Exception ex) when (RedisConnection.IsOutage(ex))
        {
            logger.LogWarning(ex, "Could not read the event reads' generation; keeping {Prefix}", _keyPrefix);
        }
    }

    private void Observe(long generation)
    {
        lock (_lock)
        {
            if (generation <= _generation)
            {
                return;
            }
            _generation = generation;
            _localEpoch = 0;
            _keyPrefix = $"{_generation}.{_localEpoch}";
        }
    }
}
