using MySqlConnector;

namespace Evently.AppHost.Infrastructure;

// Aspire.Hosting.MySql is not available here, so MySQL is a small custom resource: in processes mode
// Debian's MariaDB 10.11 (MySQL-compatible) run by the AppHost, in containers mode the MySQL 8.4 image.
// Both expose the same connection string shape, so the services cannot tell them apart.

/// <summary>A local <c>mariadbd</c> with its own data dir, started and stopped by the AppHost.</summary>
public sealed class MySqlServerResource(string name, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, dataDirectory), IResourceWithConnectionString
{
    public const string UserName = "evently";
    public ParameterResource Password { get; } = password;
    public EndpointReference Endpoint => new(this, "tcp");

    // The databases added to this server: the app's account gets these and nothing else.
    public List<string> Databases { get; } = [];

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Server=127.0.0.1;Port={Endpoint.Property(EndpointProperty.Port)};User ID={UserName};Password={Password}");

    /// <summary>
    /// What the server runs at every start, as its own bootstrap (so also on data dirs made by older
    /// versions, whose root had no password on 127.0.0.1, ::1 and the host name, and whose app account
    /// had every privilege): root through the unix socket only, as the OS user root; no anonymous
    /// accounts; the app's account with the current password, on its own databases only.
    /// </summary>
    /// <remarks>One statement per line: that is how the server reads an init file.</remarks>
    public static string InitScript(string password, IEnumerable<string> databases)
    {
        var secret = password.Replace(@"\", @"\\").Replace("'", "''");
        var account = $"'{UserName}'@'%'";
        string[] statements =
        [
            "SELECT COALESCE(CONCAT('DROP USER ', GROUP_CONCAT(CONCAT(QUOTE(User), '@', QUOTE(Host)))), 'DO 0') INTO @evently_drop " +
                "FROM mysql.global_priv WHERE (User = 'root' AND Host <> 'localhost') OR User = '';",
            "PREPARE evently_drop FROM @evently_drop;",
            "EXECUTE evently_drop;",
            "DEALLOCATE PREPARE evently_drop;",
            "ALTER USER IF EXISTS 'root'@'localhost' IDENTIFIED VIA unix_socket;",
            $"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{secret}';",
            $"ALTER USER {account} IDENTIFIED BY '{secret}';",
            $"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account};",
            .. databases.Select(database => $"GRANT ALL PRIVILEGES ON `{database.Replace("`", "``")}`.* TO {account};")
        ];
        return string.Join('\n', statements) + "\n";
    }
}

/// <summary>
/// The MySQL 8.4 container, for publish mode and machines with a container runtime. The services log in as the
/// app's account, as in processes mode: its own databases only. root logs in only from inside the container.
/// </summary>
public sealed class MySqlContainerResource(string name, ParameterResource password, ParameterResource rootPassword)
    : ContainerResource(name), IResourceWithConnectionString
{
    public const string DataDirectory = "/var/lib/mysql";

    /// <summary>The app's account's password.</summary>
    public ParameterResource Password { get; } = password;
    public ParameterResource RootPassword { get; } = rootPassword;
    public EndpointReference Endpoint => new(this, "tcp");

    // The databases added to this server: the app's account gets these and nothing else.
    public List<string> Databases { get; } = [];

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Server={Endpoint.Property(EndpointProperty.Host)};Port={Endpoint.Property(EndpointProperty.Port)};" +
        $"User ID={MySqlServerResource.UserName};Password={Password}");

    /// <summary>
    /// The container's command (for /bin/sh -c). A new volume gets its accounts from the image (MYSQL_ROOT_HOST,
    /// MYSQL_USER, MYSQL_PASSWORD, MYSQL_DATABASE: root on localhost only, the app's account on its database). A volume
    /// that exists (one made by an earlier version, whose services logged in as root from anywhere, or one whose
    /// passwords have changed since) is brought to the same rules at every start by an init file, which the server
    /// cannot run while it initialises a volume. The file is written from the container's own environment, readable
    /// by the server's user only; the passwords are quoted for SQL (backslashes doubled, quotes doubled). No braces:
    /// a deployment tool reads {...} in the manifest as a reference.
    /// </summary>
    public static string StartScript(IEnumerable<string> databases)
    {
        var account = $"'{MySqlServerResource.UserName}'@'%'";
        string[] statements =
        [
            "DROP USER IF EXISTS 'root'@'%';",
            "ALTER USER IF EXISTS 'root'@'localhost' IDENTIFIED BY '$(sql \"$MYSQL_ROOT_PASSWORD\")';",
            $"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '$(sql \"$MYSQL_PASSWORD\")';",
            $"ALTER USER {account} IDENTIFIED BY '$(sql \"$MYSQL_PASSWORD\")';",
            $"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account};",
            .. databases.Select(database => $"GRANT ALL PRIVILEGES ON \\`{database.Replace("`", "``")}\\`.* TO {account};")
        ];
        return $$"""
            set -e
            if [ -d {{DataDirectory}}/mysql ]; then
              sql() ( printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g" )
              umask 077
              cat > /tmp/evently-accounts.sql <<EOF
            {{string.Join('\n', statements)}}
            EOF
              chown mysql:mysql /tmp/evently-accounts.sql
              exec docker-entrypoint.sh mysqld --init-file=/tmp/evently-accounts.sql
            fi
            exec docker-entrypoint.sh mysqld
            """;
    }
}

/// <summary>A database on either server; its connection string is the server's plus the database name.</summary>
public sealed class MySqlDatabaseResource(string name, string databaseName, IResourceWithConnectionString server)
    : Resource(name), IResourceWithParent<IResourceWithConnectionString>, IResourceWithConnectionString
{
    public IResourceWithConnectionString Parent { get; } = server;
    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

public static class MySqlResourceExtensions
{
    public static IResourceBuilder<IResourceWithConnectionString> AddMySql(
        this IDistributedApplicationBuilder builder, string name, InfrastructureMode mode)
    {
        // The container's volume keeps the password of its first run, so a generated one is kept in the
        // AppHost's user secrets. The local process needs no such memory: its init file sets it at every start.
        var password = builder.AddParameter($"{name}-password",
            new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true,
            persist: mode == InfrastructureMode.Containers);

        var server = mode == InfrastructureMode.Containers
            ? (IResourceBuilder<IResourceWithConnectionString>)AddContainer(builder, name, password,
                builder.AddParameter($"{name}-root-password", new GenerateParameterDefault { MinLength = 24, Special = false },
                    secret: true, persist: true))
            : AddProcess(builder, name, password);

        return server.WithProbe(async (connectionString, cancellationToken) =>
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
        });
    }

    public static IResourceBuilder<MySqlDatabaseResource> AddDatabase(
        this IResourceBuilder<IResourceWithConnectionString> server, string databaseName)
    {
        var database = new MySqlDatabaseResource(databaseName, databaseName, server.Resource);
        switch (server.Resource)
        {
            case MySqlServerResource local:
                local.Databases.Add(databaseName);
                break;
            case MySqlContainerResource container:
                container.Databases.Add(databaseName);
                break;
        }
        return server.ApplicationBuilder.AddResource(database)
            .WithManifestPublishingCallback(context =>
            {
                context.Writer.WriteString("type", "value.v0");
                context.WriteConnectionString(database);
            });
    }

    private static IResourceBuilder<MySqlContainerResource> AddContainer(IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<ParameterResource> password, IResourceBuilder<ParameterResource> rootPassword)
    {
        var container = builder.AddResource(new MySqlContainerResource(name, password.Resource, rootPassword.Resource));
        return container
            .WithImage("library/mysql", "8.4")
            .WithImageRegistry("docker.io")
            .WithEndpoint(targetPort: 3306, name: "tcp", scheme: "tcp")
            .WithEnvironment("MYSQL_ROOT_PASSWORD", rootPassword)
            .WithEnvironment("MYSQL_ROOT_HOST", "localhost")
            .WithEnvironment("MYSQL_USER", MySqlServerResource.UserName)
            .WithEnvironment("MYSQL_PASSWORD", password)
            .WithEnvironment(context => context.EnvironmentVariables["MYSQL_DATABASE"] = container.Resource.Databases.FirstOrDefault() ?? "")
            .WithEntrypoint("/bin/sh")
            .WithArgs(context =>
            {
                context.Args.Add("-c");
                context.Args.Add(MySqlContainerResource.StartScript(container.Resource.Databases));
            })
            .WithVolume($"evently-{name}-data", MySqlContainerResource.DataDirectory);
    }

    private static IResourceBuilder<MySqlServerResource> AddProcess(
        IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource> password)
    {
        var mariadbd = LocalProcesses.FindBinary("mariadbd", "mariadb-server");
        var dataDir = LocalProcesses.DataDirectory(builder, name);
        var initFile = Path.Combine(dataDir, "evently-init.sql");
        var port = LocalProcesses.FreePort();

        if (!Directory.Exists(Path.Combine(dataDir, "mysql")))
        {
            // root logs in through the unix socket, as the OS user root, and never over TCP.
            LocalProcesses.Run(LocalProcesses.FindBinary("mariadb-install-db", "mariadb-server"),
                "--no-defaults", $"--datadir={dataDir}", "--user=root",
                "--auth-root-authentication-method=socket", "--skip-test-db");
        }

        var server = builder.AddResource(new MySqlServerResource(name, mariadbd, dataDir, password.Resource))
            .WithEndpoint(port: port, targetPort: port, name: "tcp", scheme: "tcp", isProxied: false)
            .WithArgs(
                "--no-defaults", $"--datadir={dataDir}", $"--port={port}", "--bind-address=127.0.0.1",
                $"--socket={Path.Combine(dataDir, "mysqld.sock")}", $"--pid-file={Path.Combine(dataDir, "mysqld.pid")}",
                "--user=root", "--skip-name-resolve", $"--init-file={initFile}",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
                "--max-connections=1000", "--innodb-buffer-pool-size=256M",
                // Runs as many statements at once as there are cores, rather than one thread per connection:
                // dozens of bookings waiting on one event's row then queue instead of spinning on its lock.
                "--thread-handling=pool-of-threads");

        // The init file runs at every start, so the accounts always match the current password and rules.
        return server.WithStartupSecretFile(initFile, async cancellationToken => MySqlServerResource.InitScript(
            (await password.Resource.GetValueAsync(cancellationToken))!, server.Resource.Databases));
    }
}
