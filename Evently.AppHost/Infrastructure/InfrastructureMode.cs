using System.Diagnostics;

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
            "auto" => ContainerRuntimeIsHealthy() ? InfrastructureMode.Containers : InfrastructureMode.Processes,
            _ => throw new InvalidOperationException(
                $"{ConfigurationKey} must be 'auto', 'processes' or 'containers', not '{configured}'.")
        };
    }

    // A docker client without an engine is common here, so ask the engine itself, briefly.
    private static bool ContainerRuntimeIsHealthy()
    {
        foreach (var runtime in new[] { "docker", "podman" })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(runtime, "info --format {{.ServerVersion}}")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true
                });
                if (process is null)
                {
                    continue;
                }
                if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
                {
                    process.Kill(entireProcessTree: true);
                    continue;
                }
                if (process.ExitCode == 0)
                {
                    return true;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed.
            }
        }
        return false;
    }
}
