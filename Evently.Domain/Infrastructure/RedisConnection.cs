using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Evently.Domain.Infrastructure;

/// <summary>
/// How the API and the worker talk to Redis, which speeds them up but must never stall them, and the one
/// definition of "Redis cannot serve right now" that every call site uses to fall back (a bucket per replica,
/// the cache bypassed, 503 on the queue path) rather than fail.
/// </summary>
public static partial class RedisConnection
{
    public const string Name = "redis";

    /// <summary>How long Redis is skipped after a failure that says it cannot serve.</summary>
    public static readonly TimeSpan SkipAfterOutage = TimeSpan.FromSeconds(1);

    private static readonly ConditionalWeakTable<IConnectionMultiplexer, Outage> Outages = new();

    /// <summary>
    /// The API's and the worker's Redis client (<see cref="Configure"/>), without Redis command spans: Aspire's Redis
    /// tracing keeps a profiling session, and the Activity it belongs to, for every request or drain batch, sampled or
    /// not, until a flush every 10 s (not configurable). At thousands of calls a second they reach gen 2 before they
    /// die (about 10 MiB of the API's heap), and the worker's finalizer thread spent a tenth of its time on their
    /// tables. The traces keep the spans around the calls: requests, drain batches, database commands.
    /// </summary>
    public static IHostApplicationBuilder AddEventlyRedisClient(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient(Name, settings => settings.DisableTracing = true, configureOptions: Configure);
        return builder;
    }

    // While the connection is down a command fails at once instead of waiting in the backlog for the
    // 5 s default; a server that hangs gets a second to answer. Reconnects are tried every 250 ms to 2 s.
    public static void Configure(ConfigurationOptions options)
    {
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 2_000;
        options.AsyncTimeout = 1_000;
        options.SyncTimeout = 1_000;
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 2_000);
        // Replies are read on the thread pool rather than on ten dedicated threads per process: every caller
        // awaits, so there is no blocked pool for them to bypass.
        options.SocketManager = SocketManager.ThreadPool;
    }

    /// <summary>
    /// The failures that mean Redis cannot serve right now, as opposed to a bug: the connection lost, a server
    /// that does not answer in time, a connection disposed at shutdown, and the error replies of a server that
    /// is up but refuses the work (out of memory, unable to persist, a read-only replica after a failover,
    /// loading its data, a busy script, a cluster or primary that is down). A call in flight when its connection
    /// dies ends with whatever the socket layer threw: a socket error, a cancellation nobody asked for (the
    /// client cancels what it had sent), or the connection's pipe completed under its read.
    /// </summary>
    public static bool IsOutage(Exception exception) => exception switch
    {
        RedisConnectionException or TimeoutException or ObjectDisposedException or SocketException => true,
        RedisServerException server => OutageReply().IsMatch(server.Message),
        OperationCanceledException { CancellationToken.IsCancellationRequested: false } => true,
        InvalidOperationException { Source: "System.IO.Pipelines" } => true,
        { InnerException: { } inner } => IsOutage(inner),
        _ => false
    };

    // The reply's error code comes first; from a script, Redis before 7 wraps it: "ERR Error running script ...: -READONLY ...".
    // BUSYGROUP (a consumer group that exists) is an answer, not an outage: the codes are whole words.
    [GeneratedRegex(@"(^|: -)(OOM|MISCONF|READONLY|LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b")]
    private static partial Regex OutageReply();

    /// <summary>
    /// False while Redis cannot serve: disconnected, or a call failed with an outage (<see cref="IsOutage(Exception)"/>)
    /// within the last <see cref="SkipAfterOutage"/>. Callers then take their fallback at once, without a round trip.
    /// </summary>
    public static bool IsUsable(this IConnectionMultiplexer redis) =>
        redis.IsConnected && (!Outages.TryGetValue(redis, out var outage) || outage.IsOver);

    /// <summary>
    /// For a catch filter: whether the failure is an outage (<see cref="IsOutage(Exception)"/>); if it is, every
    /// caller in this process skips Redis for <see cref="SkipAfterOutage"/> (<see cref="IsUsable"/>).
    /// </summary>
    public static bool MarkOutage(this IConnectionMultiplexer redis, Exception exception)
    {
        if (!IsOutage(exception))
        {
            return false;
        }
        Outages.GetValue(redis, Outage.Of).Extend(SkipAfterOutage);
        return true;
    }

    private sealed class Outage
    {
        private long _until;

        // A reconnect ends it at once: what waited for Redis (a pending increment, the queue's drain) goes on now.
        public static Outage Of(IConnectionMultiplexer redis)
        {
            var outage = new Outage();
            redis.ConnectionRestored += (_, _) => Volatile.Write(ref outage._until, 0);
            return outage;
        }

        public bool IsOver => Environment.TickCount64 >= Volatile.Read(ref _until);

        public void Extend(TimeSpan duration) => Volatile.Write(ref _until, Environment.TickCount64 + (long)duration.TotalMilliseconds);
    }
}
