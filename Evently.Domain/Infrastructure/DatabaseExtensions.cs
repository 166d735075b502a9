using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MySqlConnector;

namespace Evently.Domain.Infrastructure;

public static class DatabaseExtensions
{
    public const string ConnectionName = "evently";

    // Aspire.Pomelo.EntityFrameworkCore.MySql is not available here: this is what it would do.
    // A pooled context, retries on transient MySQL errors, a health check, and tracing through the
    // MySqlConnector activity source (registered in ServiceDefaults).
    public static IHostApplicationBuilder AddEventlyDbContext(this IHostApplicationBuilder builder)
    {
        var connectionString = WithBoundedWaits(builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} is not configured."));
        var serverVersion = ResolveServerVersion(builder.Configuration, connectionString);

        builder.Services.AddDbContextPool<EventlyDbContext>(options => Configure(options, connectionString, serverVersion));
        builder.Services.AddHealthChecks().AddDbContextCheck<EventlyDbContext>("database");
        return builder;
    }

    // A database that hangs must not hang its callers: connecting gets 3 s, a statement 10 s, and a cancelled
    // statement (a request past its deadline) 1 s to stop before its connection is closed. The connection
    // string's own values win.
    internal static string WithBoundedWaits(string connectionString)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString);
        if (!builder.ContainsKey("Connection Timeout") && !builder.ContainsKey("Connect Timeout"))
        {
            builder.ConnectionTimeout = 3;
        }
        if (!builder.ContainsKey("Default Command Timeout"))
        {
            builder.DefaultCommandTimeout = 10;
        }
        if (!builder.ContainsKey("Cancellation Timeout"))
        {
            builder.CancellationTimeout = 1;
        }
        return builder.ConnectionString;
    }

    public static void Configure(DbContextOptionsBuilder options, string connectionString, ServerVersion serverVersion) =>
        options.UseMySql(connectionString, serverVersion, mysql => mysql
            .ExecutionStrategy(dependencies => new EventlyExecutionStrategy(dependencies))
            .MigrationsAssembly(typeof(EventlyDbContext).Assembly.FullName));

    // 'Evently:Database:ServerVersion' (e.g. "10.11.0-mariadb" or "8.4.0-mysql") avoids a round trip at
    // start-up; without it the server is asked once.
    private static ServerVersion ResolveServerVersion(IConfiguration configuration, string connectionString) =>
        configuration["Evently:Database:ServerVersion"] is { Length: > 0 } configured
            ? ServerVersion.Parse(configured)
            : ServerVersion.AutoDetect(connectionString);
}

/// <summary>Lets 'dotnet ef migrations add' build the model without a running database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<EventlyDbContext>
{
    public EventlyDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<EventlyDbContext>();
        DatabaseExtensions.Configure(options, "Server=localhost;Database=evently", ServerVersion.Parse("10.11.0-mariadb"));
        return new EventlyDbContext(options.Options);
    }
}
