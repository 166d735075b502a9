using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Evently.AppHost.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// The same app on a three-master Redis Cluster of local processes (<c>Evently:Redis:Cluster</c>), started once for
/// its collection; the queue drains in small batches, so that a drain lasts long enough to be interrupted.
/// </summary>
public sealed class ClusterAppFixture : EventlyAppFixture
{
    public const int QueueBatchSize = 100;

    /// <summary>The nodes' resources: the first stands for the cluster (its connection string names them all).</summary>
    public static readonly string[] Nodes = ["redis", "redis-1", "redis-2"];

    protected override IEnumerable<string> Settings => [$"{RedisCluster.ConfigurationKey}=true", $"Evently:Worker:Queue:BatchSize={QueueBatchSize}"];

    /// <summary>The resource of the node that serves the key's slot.</summary>
    public string NodeOf(IConnectionMultiplexer redis, RedisKey key)
    {
        var port = redis.GetServer(key).EndPoint switch
        {
            System.Net.IPEndPoint ip => ip.Port,
            System.Net.DnsEndPoint dns => dns.Port,
            var other => throw new InvalidOperationException($"Unexpected endpoint {other}")
        };
        return Nodes.Single(node => App.GetEndpoint(node, "tcp").Port == port);
    }

    /// <summary>kill -9 of the node's redis-server (its pid from the server itself).</summary>
    public async Task KillAsync(IConnectionMultiplexer redis, string node)
    {
        var server = redis.GetServer("127.0.0.1", App.GetEndpoint(node, "tcp").Port);
        var pid = int.Parse((await server.InfoAsync("server")).SelectMany(g => g).Single(kv => kv.Key == "process_id").Value);
        using var process = Process.GetProcessById(pid);
        process.Kill();
        await process.WaitForExitAsync();
    }

    /// <summary>Starts the killed node again, on its port and data dir (its append-only file, its nodes.conf).</summary>
    public async Task RestartAsync(string node)
    {
        var resource = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == node);
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        // The orchestrator must have seen the process exit before it starts it again.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var result = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, timeout.Token);
            if (result.Success)
            {
                return;
            }
            await Task.Delay(200, timeout.Token);
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection : ICollectionFixture<ClusterAppFixture>
{
    public const string Name = "Evently app on a Redis Cluster";
}
