using StackExchange.Redis;

namespace Evently.Domain.Infrastructure;

/// <summary>How the API and the worker talk to Redis, which speeds them up but must never stall them.</summary>
public static class RedisConnection
{
    public const string Name = "redis";

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

    /// <summary>The failures that mean Redis is unreachable or slow, as opposed to a bug.</summary>
    public static bool IsOutage(Exception exception) =>
        exception is RedisConnectionException or TimeoutException or ObjectDisposedException;
}
