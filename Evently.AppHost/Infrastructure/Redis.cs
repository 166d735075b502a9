using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Evently.AppHost.Infrastructure;

/// <summary>
/// A local <c>redis-server</c> with its own data dir, for machines without a container runtime; or one node of a local
/// Redis Cluster, whose connection string names every node (<see cref="ClusterPeerPorts"/>) as a managed cluster's would.
/// </summary>
public sealed class RedisServerResource(string name, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, dataDirectory), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;
    public EndpointReference Endpoint => new(this, "tcp");

    /// <summary>
    /// The ports of the cluster's other nodes, for the node that stands for the cluster; empty for a single server. Ports,
    /// not endpoint references: the orchestrator resolves a connection string as the resource starts, before it has
    /// allocated the endpoints of resources it starts after it.
    /// </summary>
    public List<int> ClusterPeerPorts { get; } = [];

    public ReferenceExpression ConnectionStringExpression
    {
        get
        {
            var expression = new ReferenceExpressionBuilder();
            expression.Append($"127.0.0.1:{Endpoint.Property(EndpointProperty.Port)}");
            foreach (var port in ClusterPeerPorts)
            {
                expression.AppendLiteral($",127.0.0.1:{port}");
            }
            expression.Append($",password={Password}");
            return expression.Build();
        }
    }
}

public static class RedisResourceExtensions
{
    /// <summary>
    /// How Redis runs in every mode. A queued booking request (202) is a promise: Redis writes the append-only file
    /// before it replies, so a 202 survives kill -9 of redis-server, and the fsync once a second bounds what a crash of
    /// the whole machine can lose ('always' would fsync on every write, on Redis's one thread). Memory is bounded, and
    /// when it is full Redis evicts the least recently used key among those with a time to live: cache entries, rate
    /// limit buckets, answered requests. The booking queue's state has none, so it is never evicted; once nothing
    /// else is left to evict, writes are refused (OOM) and the services go on as without Redis. 256 MB holds about
    /// 500,000 queued requests (about 470 bytes each with their request hash, idempotency key and per-user count,
    /// measured) beside the cache, and leaves room in a 1 GiB container for the append-only file's rewrite.
    /// </summary>
    public static readonly string[] ServerSettings =
        ["--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory", "256mb", "--maxmemory-policy", "volatile-lru"];

    public const string ExternalKey = "Evently:Redis:External";

    public static IResourceBuilder<IResourceWithConnectionString> AddEventlyRedis(
        this IDistributedApplicationBuilder builder, string name, InfrastructureMode mode)
    {
        // A Redis the deployment already has (a managed cluster, say), in any mode: its connection string comes from
        // ConnectionStrings:redis locally, and is asked for as a secret when the app is deployed.
        if (builder.Configuration.GetValue<bool>(ExternalKey))
        {
            return builder.AddConnectionString(name);
        }
        // Aspire's own Redis resource is a container: use it whenever containers are in play, with its data on a volume.
        if (mode == InfrastructureMode.Containers)
        {
            return builder.AddRedis(name)
                .WithVolume($"evently-{name}-data", "/data")
                .WithArgs(context =>
                {
                    // Aspire starts it as /bin/sh -c "redis-server --requirepass $REDIS_PASSWORD" (the password from
                    // the environment, never on a command line): the settings go on that command.
                    var command = context.Args.IndexOf("-c") + 1;
                    context.Args[command] = $"{context.Args[command]} --dir /data {string.Join(' ', ServerSettings)}";
                });
        }

        var password = builder.AddParameter($"{name}-password",
            new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true);
        if (builder.Configuration.GetValue<bool>(RedisCluster.ConfigurationKey))
        {
            return builder.AddRedisCluster(name, password.Resource);
        }
        return builder.AddRedisServer(name, LocalProcesses.DataDirectory(builder, name), LocalProcesses.FreePort(), password.Resource, [])
            .WithPingProbe();
    }

    /// <summary>
    /// Ready once it answers: only then is its start-up secret file deleted (a server not yet started would find none).
    /// </summary>
    internal static IResourceBuilder<RedisServerResource> WithPingProbe(this IResourceBuilder<RedisServerResource> server) =>
        server.WithProbe(async (connectionString, _) =>
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(connectionString);
            await connection.GetServers()[0].PingAsync();
        });

    /// <summary>A local redis-server on its own port and data dir, with the password in a start-up secret file.</summary>
    internal static IResourceBuilder<RedisServerResource> AddRedisServer(this IDistributedApplicationBuilder builder, string name,
        string dataDir, int port, ParameterResource password, string[] settings)
    {
        var redisServer = LocalProcesses.FindBinary("redis-server", "redis-server");
        var configFile = Path.Combine(dataDir, "evently-redis.conf");
        return builder.AddResource(new RedisServerResource(name, redisServer, dataDir, password))
            .WithEndpoint(port: port, targetPort: port, name: "tcp", scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                // The password comes in the config file: a command line is there for every local user to read.
                context.Args.Add(configFile);
                context.Args.Add("--port");
                context.Args.Add(port.ToString());
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--dir");
                context.Args.Add(dataDir);
                foreach (var setting in ServerSettings.Concat(settings))
                {
                    context.Args.Add(setting);
                }
            })
            // A cluster node authenticates to the others with the same password (masterauth, for replicas).
            .WithStartupSecretFile(configFile, async cancellationToken =>
            {
                var secret = ConfigString((await password.GetValueAsync(cancellationToken))!);
                return $"requirepass {secret}\nmasterauth {secret}\n";
            });
    }

    // A double-quoted string as redis.conf reads it.
    private static string ConfigString(string value) =>
        "\"" + value.Replace(@"\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n").Replace("\r", @"\r") + "\"";
}
