namespace Evently.AppHost.Infrastructure;

// How the AppHost provides MySQL, Redis and the mail server: as local processes (Debian packages,
// for machines without a container runtime) or as containers (publish mode, machines with a runtime).
public enum InfrastructureMode
{
    Processes,
    Containers
}

public static class InfrastructureModeResolver
{
    public const string ConfigurationKey = "Evently:Infrastructure";

    public static InfrastructureMode Resolve(IDistributedApplicationBuilder builder)
    {
        // A manifest for azd can only describe containers.
        if (builder.ExecutionContext.IsPublishMode)
        {
            return InfrastructureMode.Containers;
        }

        var configured = builder.Configuration[ConfigurationKey] ?? "auto";
        return configured.ToLowerInvariant() switch
        {
            "processes" => InfrastructureMode.Processes,
            "containers" => InfrastructureMode.Containers,
            "auto" => ContainerRuntime.FindHealthy() is not null ? InfrastructureMode.Containers : InfrastructureMode.Processes,
            _ => throw new InvalidOperationException(
                $"{ConfigurationKey} must be 'auto', 'processes' or 'containers', not '{configured}'.")
        };
    }
}
