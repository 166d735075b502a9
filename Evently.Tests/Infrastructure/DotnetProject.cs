using System.Diagnostics;

namespace Evently.Tests.Infrastructure;

// Runs another project of the solution, already built, as its own process (or any other command).
internal static class DotnetProject
{
    public static Task<(int ExitCode, string Output)> RunAsync(
        string projectPath, IEnumerable<string> arguments, IDictionary<string, string>? environment = null) =>
        RunProcessAsync("dotnet",
            new[] { "run", "--no-build", "--no-launch-profile", "-c", ServiceLauncher.Configuration, "--project", projectPath, "--" }.Concat(arguments),
            Path.GetDirectoryName(projectPath)!, environment);

    /// <summary>Runs a command to its end (at most two minutes) and answers its exit code and its output.</summary>
    public static async Task<(int ExitCode, string Output)> RunProcessAsync(
        string fileName, IEnumerable<string> arguments, string workingDirectory, IDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
