using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Evently.Domain.Infrastructure;

public static class DatabaseExtensions
{
    public const string ConnectionName = "evently";

    // Aspire.Pomelo.EntityFrameworkCore.MySql is not available here: this is what it would do.
    // A pooled context, retries on transient MySQL errors, a health check, and tracing through the
    // MySqlConnector activity source (registered in ServiceDefaults).
    public static IHostApplicationBuilder AddEventlyDbContext(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} is not configured.");
        var serverVersion = ResolveServerVersion(builder.Configuration, connectionString);

        builder.Services.AddDbContextPool<EventlyDbContext>(options => Configure(options, connectionString, serverVersion));
        builder.Services.AddHealthChecks().AddDbContextCheck<EventlyDbContext>("database");
        return builder;
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
