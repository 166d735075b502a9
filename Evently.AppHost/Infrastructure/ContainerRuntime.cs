using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace Evently.AppHost.Infrastructure;

// Which container runtime to ask: the one Aspire is told to use, else the first that answers.
public static class ContainerRuntime
{
    private static readonly string[] Known = ["docker", "podman"];

    public static string Resolve(IConfiguration configuration) =>
        configuration["ASPIRE_CONTAINER_RUNTIME"] is { Length: > 0 } configured ? configured
        : configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"] is { Length: > 0 } legacy ? legacy
        : FindHealthy() ?? "docker";

    // A docker client without an engine is common here, so ask the engine itself, briefly.
    public static string? FindHealthy()
    {
        foreach (var runtime in Known)
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
                    return runtime;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed.
            }
        }
        return null;
    }
}
