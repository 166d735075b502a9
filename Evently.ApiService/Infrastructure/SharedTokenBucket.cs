using System.Threading.RateLimiting;
using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.ApiService.Infrastructure;

/// <summary>
/// A token bucket kept in Redis, so that a limit holds across every API replica. Each replica takes tokens
/// in small batches (a twentieth of the limit) and spends them from memory until the bucket's period ends,
/// so that most requests cost no round trip; what one replica holds unspent is what another may be refused
/// early, never more than the limit in all: tokens are spent in the period that granted them. While Redis cannot serve
/// (<see cref="RedisConnection.IsOutage(Exception)"/>: unreachable, or refusing writes) each replica falls back to a bucket
/// of its own with the same limit, rather than failing requests.
/// </summary>
public sealed class SharedTokenBucket : RateLimiter
{
    // KEYS: the bucket. ARGV: limit, period (ms), tokens wanted. Refilled by the limit at the end of each period,
    // as the per-process TokenBucketRateLimiter is: a burst never gets more than the limit within a period.
    // Returns the tokens granted and the milliseconds left in the period.
    private static readonly RedisScript Take = new("""
        local limit, period, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'since')
        local tokens = tonumber(state[1]) or limit
        local since = tonumber(state[2]) or now
        local periods = math.floor((now - since) / period)
        if periods > 0 then
          tokens = math.min(limit, tokens + periods * limit)
          since = since + periods * period
        end
        local granted = math.min(wanted, tokens)
        tokens = tokens - granted
        redis.call('HSET', KEYS[1], 'tokens', tokens, 'since', since)
        redis.call('PEXPIRE', KEYS[1], period * 2)
        return { granted, since + period - now }
        """);

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKey _key;
    private readonly int _limit;
    private readonly TimeSpan _period;
    private readonly int _batch;
    private readonly Lazy<TokenBucketRateLimiter> _fallback;
    private readonly SemaphoreSlim _refill = new(1, 1);
    private readonly ILogger _logger;
    private int _localTokens;
    private long _localTokensUntil;
    private long _lastUsed = Environment.TickCount64;

    // One warning per replica every ten seconds, however many buckets fall back at once.
    private static long _nextWarning;

    public SharedTokenBucket(string partition, int limit, TimeSpan period, IConnectionMultiplexer redis, ILogger logger)
    {
        _redis = redis;
        // The partition is the key's hash tag ({user:42}): on a cluster, anything kept beside a bucket shares its slot.
        _key = $"evently:ratelimit:{{{partition}}}";
        _limit = limit;
        _period = period;
        _batch = Math.Max(1, limit / 20);
        _logger = logger;
        _fallback = new(() => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit, TokensPerPeriod = limit, ReplenishmentPeriod = period, QueueLimit = 0, AutoReplenishment = true
        }));
    }

    public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    // The synchronous attempt only spends tokens already here; the middleware then asks AcquireAsync.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        TrySpendLocal() ? Lease.Acquired : Lease.NotYet;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        await _refill.WaitAsync(cancellationToken);
        try
        {
            if (TrySpendLocal())
            {
                return Lease.Acquired;
            }
            if (!_redis.IsUsable())
            {
                return _fallback.Value.AttemptAcquire();
            }
            // Granted, and how long the period that granted them has left.
            var answer = (long[])(await Take.EvaluateAsync(_redis.GetDatabase(), [_key],
                [_limit, (long)_period.TotalMilliseconds, _batch]))!;
            if (answer[0] == 0)
            {
                return Lease.Refused(TimeSpan.FromMilliseconds(answer[1]));
            }
            Volatile.Write(ref _localTokensUntil, Environment.TickCount64 + Math.Min(answer[1], (long)_period.TotalMilliseconds));
            Interlocked.Exchange(ref _localTokens, (int)answer[0] - 1);
            return Lease.Acquired;
        }
        catch (Exception ex) when (_redis.MarkOutage(ex))
        {
            var now = Environment.TickCount64;
            var next = Volatile.Read(ref _nextWarning);
            if (now >= next && Interlocked.CompareExchange(ref _nextWarning, now + 10_000, next) == next)
            {
                _logger.LogWarning(ex, "Rate limits are kept in this replica while Redis is unavailable");
            }
            return _fallback.Value.AttemptAcquire();
        }
        finally
        {
            _refill.Release();
        }
    }

    private bool TrySpendLocal()
    {
        Volatile.Write(ref _lastUsed, Environment.TickCount64);
        if (Environment.TickCount64 > Volatile.Read(ref _localTokensUntil))
        {
            return false;
        }
        var left = Interlocked.Decrement(ref _localTokens);
        if (left >= 0)
        {
            return true;
        }
        Interlocked.Increment(ref _localTokens);
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_fallback.IsValueCreated)
            {
                _fallback.Value.Dispose();
            }
            _refill.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true, null);
        public static readonly Lease NotYet = new(false, null);
        public static Lease Refused(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
