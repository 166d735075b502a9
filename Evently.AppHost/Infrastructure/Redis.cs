using StackExchange.Redis;

namespace Evently.AppHost.Infrastructure;

/// <summary>A local <c>redis-server</c> with its own data dir, for machines without a container runtime.</summary>
public sealed class RedisServerResource(string name, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, dataDirectory), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;
    public EndpointReference Endpoint => new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"127.0.0.1:{Endpoint.Property(EndpointProperty.Port)},password={Password}");
}

public static class RedisResourceExtensions
{
    public static IResourceBuilder<IResourceWithConnectionString> AddEventlyRedis(
        this IDistributedApplicationBuilder builder, string name, InfrastructureMode mode)
    {
        // Aspire's own Redis resource is a container: use it whenever containers are in play.
        if (mode == InfrastructureMode.Containers)
        {
            return builder.AddRedis(name);
        }

        var password = builder.AddParameter($"{name}-password",
            new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true);
        var redisServer = LocalProcesses.FindBinary("redis-server", "redis-server");
        var dataDir = LocalProcesses.DataDirectory(builder, name);
        var port = LocalProcesses.FreePort();

        return builder.AddResource(new RedisServerResource(name, redisServer, dataDir, password.Resource))
            .WithEndpoint(port: port, targetPort: port, name: "tcp", scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(port.ToString());
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--dir");
                context.Args.Add(dataDir);
                context.Args.Add("--appendonly");
                context.Args.Add("yes");
                context.Args.Add("--requirepass");
                context.Args.Add(password.Resource);
            })
            .WithProbe(async (connectionString, _) =>
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(connectionString);
                await connection.GetDatabase().PingAsync();
            });
    }
}
