using Evently.Domain.Common;
using System.Diagnostics;
using Evently.Domain.Auth;
using Evently.Domain.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Evently.MigrationService;

// Applies migrations, creates the first admin and the demo data, then stops the host so that the
// services waiting on this one (WaitForCompletion) can start. Running it again changes nothing.
public sealed class MigrationWorker(
    IServiceProvider serviceProvider,
    IHostApplicationLifetime lifetime,
    IOptions<SeedOptions> options,
    IPasswordHasher<User> passwordHasher,
    TimeProvider timeProvider,
    ILogger<MigrationWorker> logger) : BackgroundService
{
    public const string ActivitySourceName = "Evently.Migrations";
    private static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var activity = ActivitySource.StartActivity("Migrating database", ActivityKind.Client);
        try
        {
            using var scope = serviceProvider.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<EventlyDbContext>();

            await db.Database.CreateExecutionStrategy().ExecuteAsync(() => db.Database.MigrateAsync(stoppingToken));
            await EnsureAdminAsync(db, stoppingToken);
            if (options.Value.SeedDemoData)
            {
                await DemoData.SeedAsync(db, timeProvider.UtcNow(), stoppingToken);
            }
        }
        catch (Exception ex)
        {
            activity?.AddException(ex);
            logger.LogError(ex, "Migrating the database failed");
            Environment.ExitCode = 1;
        }

        lifetime.StopApplication();
    }

    private async Task EnsureAdminAsync(EventlyDbContext db, CancellationToken cancellationToken)
    {
        var admin = options.Value.Admin;
        var normalizedEmail = User.Normalize(admin.Email);
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == normalizedEmail, cancellationToken))
        {
            return;
        }

        var user = new User
        {
            Email = admin.Email.Trim(),
            NormalizedEmail = normalizedEmail,
            Name = "Administrator",
            Role = Roles.Admin,
            PasswordHash = "",
            CreatedAt = timeProvider.UtcNow()
        };
        user.PasswordHash = passwordHasher.HashPassword(user, admin.Password);
        db.Users.Add(user);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Created the first admin {Email}", user.Email);
    }
}
