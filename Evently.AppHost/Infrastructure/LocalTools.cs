using System.Text.Json;

namespace Evently.AppHost.Infrastructure;

/// <summary>Finds the executable of a restored dotnet local tool without running it through 'dotnet tool run'.</summary>
public static class LocalTools
{
    /// <summary>
    /// Where the SDK says the tool is: 'dotnet tool restore' records each restored command with its
    /// executable in the tool resolver cache under the CLI home, and 'dotnet tool run' starts it from
    /// there. That is the truth even when NUGET_PACKAGES or a nuget.config points somewhere else now.
    /// </summary>
    /// <returns>The executable, or null when the tool is not restored.</returns>
    public static string? FindExecutable(string packageId, string command, string version, string? cliHome = null)
    {
        cliHome ??= Environment.GetEnvironmentVariable("DOTNET_CLI_HOME") is { Length: > 0 } configured
            ? configured
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var cacheFile = Path.Combine(cliHome, ".dotnet", "toolResolverCache", "1", packageId.ToLowerInvariant());
        if (!File.Exists(cacheFile))
        {
            return null;
        }

        try
        {
            using var cache = JsonDocument.Parse(File.ReadAllText(cacheFile));
            return cache.RootElement.EnumerateArray()
                .Where(entry => entry.TryGetProperty("Name", out var name) && name.GetString() == command
                    && entry.TryGetProperty("Version", out var v) && v.GetString() == version)
                .Select(entry => entry.TryGetProperty("PathToExecutable", out var path) ? path.GetString() : null)
                .FirstOrDefault(File.Exists);
        }
        catch (JsonException)
        {
            // A cache written by another SDK version in another shape: as good as no cache.
            return null;
        }
    }
}
