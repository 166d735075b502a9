using System.Text.Json;

namespace Evently.AppHost.Infrastructure;

// The development mail server: every e-mail the services send lands in its web page instead of an inbox.
// Its connection string is "smtp://host:port".

/// <summary>smtp4dev run from the repository's dotnet tool manifest.</summary>
public sealed class Smtp4devResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public EndpointReference SmtpEndpoint => new(this, "smtp");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"smtp://127.0.0.1:{SmtpEndpoint.Property(EndpointProperty.Port)}");
}

/// <summary>The smtp4dev image, for containers mode.</summary>
public sealed class Smtp4devContainerResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    public EndpointReference SmtpEndpoint => new(this, "smtp");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"smtp://{SmtpEndpoint.Property(EndpointProperty.Host)}:{SmtpEndpoint.Property(EndpointProperty.Port)}");
}

public static class Smtp4devResourceExtensions
{
    private const string ToolPackage = "rnwood.smtp4dev";

    public static IResourceBuilder<IResourceWithConnectionString> AddSmtp4dev(
        this IDistributedApplicationBuilder builder, string name, InfrastructureMode mode)
    {
        if (mode == InfrastructureMode.Containers)
        {
            return builder.AddResource(new Smtp4devContainerResource(name))
                .WithImage("rnwood/smtp4dev", "v3")
                .WithImageRegistry("docker.io")
                .WithHttpEndpoint(targetPort: 80, name: "http")
                .WithEndpoint(targetPort: 25, name: "smtp", scheme: "tcp")
                .WithHttpHealthCheck("/");
        }

        var repositoryRoot = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
        var (smtpPort, imapPort, pop3Port, httpPort) =
            (LocalProcesses.FreePort(), LocalProcesses.FreePort(), LocalProcesses.FreePort(), LocalProcesses.FreePort());

        // Run the tool's native binary rather than 'dotnet tool run', which would leave it as an
        // orphaned child process when the AppHost stops the wrapper.
        return builder.AddResource(new Smtp4devResource(name, FindToolBinary(repositoryRoot), repositoryRoot))
            .WithEndpoint(port: smtpPort, targetPort: smtpPort, name: "smtp", scheme: "tcp", isProxied: false)
            .WithHttpEndpoint(port: httpPort, targetPort: httpPort, name: "http", isProxied: false)
            // Loopback only, like MariaDB and Redis: by default smtp4dev's SMTP, IMAP and POP3 servers listen on every
            // interface, and anyone on the network could read every mail or send some.
            .WithArgs(
                $"--smtpport={smtpPort}", $"--imapport={imapPort}", $"--pop3port={pop3Port}",
                $"--urls=http://127.0.0.1:{httpPort}", "--allowremoteconnections-", "--bindaddress=127.0.0.1",
                "--db=", "--hostname=localhost")
            .WithHttpHealthCheck("/api/messages");
    }

    private static string FindToolBinary(string repositoryRoot)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(repositoryRoot, ".config", "dotnet-tools.json")));
        var version = manifest.RootElement.GetProperty("tools").GetProperty(ToolPackage).GetProperty("version").GetString()!;

        return LocalTools.FindExecutable(ToolPackage, "smtp4dev", version) ?? throw new MissingPrerequisiteException(
            $"smtp4dev {version} is not installed: run 'dotnet tool restore' in {repositoryRoot} (./run.sh does).");
    }
}
