using System.IO.Pipelines;
using System.Net.Sockets;
using Evently.Domain.Infrastructure;
using StackExchange.Redis;

namespace Evently.Tests.Unit;

// The shapes the chaos soak saw escape a Redis call whose connection died (seed 30: redis-server killed and frozen),
// each a 500 before: they are an outage, like a lost connection. A bug is not.
public sealed class OutageRulesTests
{
    [Fact]
    public void A_call_cancelled_by_the_client_as_its_connection_died_is_an_outage() =>
        Assert.True(RedisConnection.IsOutage(new TaskCanceledException()));

    [Fact]
    public void A_connection_reset_under_a_call_is_an_outage() =>
        Assert.True(RedisConnection.IsOutage(new IOException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset))));

    [Fact]
    public void The_connections_pipe_completed_under_its_read_is_an_outage()
    {
        var pipe = new Pipe();
        pipe.Reader.Complete();
        var closed = Assert.ThrowsAny<InvalidOperationException>(() => pipe.Reader.AdvanceTo(default(ReadResult).Buffer.Start));

        Assert.True(RedisConnection.IsOutage(closed));
    }

    [Fact]
    public void A_request_cancelled_by_its_caller_and_a_bug_are_not_an_outage()
    {
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();

        Assert.False(RedisConnection.IsOutage(new OperationCanceledException(aborted.Token)));
        Assert.False(RedisConnection.IsOutage(new InvalidOperationException("a bug")));
        Assert.False(RedisConnection.IsOutage(new RedisServerException("ERR unknown command")));
    }
}
