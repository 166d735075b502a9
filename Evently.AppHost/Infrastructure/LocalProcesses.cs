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
    // Only their owner may enter them: they hold the data, the servers' sockets and their start-up secrets.
    // The root may be a folder named in configuration, and shared: it is restricted only when made here.
    public static string DataDirectory(IDistributedApplicationBuilder builder, string service)
    {
        var root = DataRoot(builder);
        if (!Directory.Exists(root))
        {
            OwnerOnly(Directory.CreateDirectory(root).FullName);
        }
        var dir = Path.Combine(root, service);
        OwnerOnly(Directory.CreateDirectory(dir).FullName);
        return dir;
    }

    /// <summary>
    /// A file that hands a secret to a server as it starts (MariaDB's init file, Redis's config): written
    /// for its owner's eyes only just before each start, and deleted once the server is up (or has
    /// stopped), so that no secret stays on disk.
    /// </summary>
    public static IResourceBuilder<T> WithStartupSecretFile<T>(
        this IResourceBuilder<T> resource, string path, Func<CancellationToken, Task<string>> contents)
        where T : IResource
    {
        resource.OnBeforeResourceStarted(async (_, _, cancellationToken) =>
        {
            var text = await contents(cancellationToken);
            // Delete first: the mode of a new file is what counts, and an older version left this one world-readable.
            File.Delete(path);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            await using var file = new StreamWriter(path, options);
            await file.WriteAsync(text.AsMemory(), cancellationToken);
        });
        resource.OnResourceReady((_, _, _) => DeleteAsync(path));
        resource.OnResourceStopped((_, _, _) => DeleteAsync(path));
        return resource;
    }

    private static Task DeleteAsync(string path)
    {
        File.Delete(path);
        return Task.CompletedTask;
    }

    private static void OwnerOnly(string directory)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
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
