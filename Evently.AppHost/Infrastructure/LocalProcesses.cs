using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Evently.AppHost.Infrastructure;

// Helpers for running infrastructure as local processes: finding binaries, free ports and data dirs.
public static class LocalProcesses
{
    private static readonly string[] SearchDirectories = ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"];

    public static string FindBinary(string name, string debianPackage)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Concat(SearchDirectories)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

        return path ?? throw new MissingPrerequisiteException(
            $"'{name}' was not found: install it with 'sudo apt-get install -y {debianPackage}' (or run ./run.sh, which does).");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // The data dirs survive restarts of the app; '--fresh' (or deleting the folder) starts over.
    public static string DataDirectory(IDistributedApplicationBuilder builder, string service)
    {
        var dir = Path.Combine(DataRoot(builder), service);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void WipeDataDirectories(IDistributedApplicationBuilder builder)
    {
        var root = DataRoot(builder);
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string DataRoot(IDistributedApplicationBuilder builder) => Path.GetFullPath(
        builder.Configuration["Evently:DataDir"] ?? Path.Combine(builder.AppHostDirectory, ".data"));

    public static void Run(string fileName, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process? started;
        try
        {
            started = Process.Start(startInfo);
        }
        catch (System.ComponentModel.Win32Exception notFound)
        {
            throw new DistributedApplicationException($"Could not start '{fileName}': {notFound.Message}");
        }
        using var process = started ?? throw new DistributedApplicationException($"Could not start '{fileName}'.");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new DistributedApplicationException(
                $"'{fileName}' failed with exit code {process.ExitCode}: {(stderr.Result + stdout.Result).Trim()}");
        }
    }
}

/// <summary>Something the local processes mode needs is not installed; the message says how to install it.</summary>
public sealed class MissingPrerequisiteException(string message) : DistributedApplicationException(message);
