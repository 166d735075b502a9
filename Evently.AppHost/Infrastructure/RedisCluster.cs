using System.Diagnostics;
using System.Globalization;

namespace Evently.AppHost.Infrastructure;

/// <summary>
/// <c>Evently:Redis:Cluster=true</c> (processes mode): a Redis Cluster of three masters, local redis-server processes
/// each with its own data dir and append-only file, formed once with <c>redis-cli --cluster create</c>. The first node is
/// the <c>redis</c> resource: its connection string names all three, as a managed cluster's does, and it is healthy
/// once the cluster serves every slot. A node that is down leaves the others serving their slots
/// (<c>cluster-require-full-coverage no</c>): its events wait, the others go on.
/// </summary>
public static class RedisCluster
{
    public const string ConfigurationKey = "Evently:Redis:Cluster";
    public const int Nodes = 3;

    // 2 s without an answer and a node counts as failed: the others stop waiting for it soon.
    private static readonly string[] NodeSettings =
    [
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
        "--cluster-require-full-coverage", "no"
    ];

    private static readonly SemaphoreSlim Forming = new(1, 1);

    public static IResourceBuilder<IResourceWithConnectionString> AddRedisCluster(
        this IDistributedApplicationBuilder builder, string name, ParameterResource password)
    {
        var ports = Enumerable.Range(0, Nodes).Select(i => NodePort(LocalProcesses.DataDirectory(builder, $"{name}-cluster-{i}"))).ToList();
        var nodes = ports.Select((port, i) => builder.AddRedisServer(i == 0 ? name : $"{name}-{i}",
            LocalProcesses.DataDirectory(builder, $"{name}-cluster-{i}"), port, password, NodeSettings)).ToList();
        nodes.Skip(1).ToList().ForEach(node => node.WithPingProbe());
        var cluster = nodes[0];
        cluster.Resource.ClusterPeerPorts.AddRange(ports.Skip(1));
        return cluster.WithProbe(async (_, cancellationToken) =>
        {
            await Forming.WaitAsync(cancellationToken);
            try
            {
                await FormAsync(ports.Select(port => $"127.0.0.1:{port}").ToList(), (await password.GetValueAsync(cancellationToken))!, cancellationToken);
            }
            finally
            {
                Forming.Release();
            }
        });
    }

    // The nodes know each other by address (nodes.conf): each keeps its port across restarts of the app.
    private static int NodePort(string dataDir)
    {
        var file = Path.Combine(dataDir, "port");
        if (File.Exists(file) && int.TryParse(File.ReadAllText(file), CultureInfo.InvariantCulture, out var kept))
        {
            return kept;
        }
        var port = LocalProcesses.FreePort();
        File.WriteAllText(file, port.ToString(CultureInfo.InvariantCulture));
        return port;
    }

    // Healthy once every node says the cluster is ok; nodes that all know only themselves (a first start) are formed
    // into one cluster here, once.
    private static async Task FormAsync(List<string> endpoints, string password, CancellationToken cancellationToken)
    {
        var infos = new List<string>();
        foreach (var endpoint in endpoints)
        {
            infos.Add(await CliAsync(password, ["-h", endpoint.Split(':')[0], "-p", endpoint.Split(':')[1], "CLUSTER", "INFO"], cancellationToken));
        }
        if (infos.All(info => info.Contains("cluster_state:ok") && info.Contains($"cluster_known_nodes:{Nodes}")))
        {
            return;
        }
        if (infos.All(info => info.Contains("cluster_known_nodes:1") && info.Contains("cluster_slots_assigned:0")))
        {
            await CliAsync(password, ["--cluster", "create", .. endpoints, "--cluster-replicas", "0", "--cluster-yes"], cancellationToken);
        }
        throw new InvalidOperationException("The Redis Cluster is forming.");
    }

    // The password goes in the environment, never on a command line.
    private static async Task<string> CliAsync(string password, string[] arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(LocalProcesses.FindBinary("redis-cli", "redis-tools"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, Environment = { ["REDISCLI_AUTH"] = password }
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli {arguments[0]} ... failed: {(await errors + await output).Trim()}");
        }
        return await output;
    }
}
