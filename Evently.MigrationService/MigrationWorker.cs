using Evently.Domain.Common;
using System.Diagnostics;
using Evently.Domain.Auth;
using Evently.Domain.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Evently.MigrationService;

// Applies migrations, brings the admin in line with configuration and adds the demo data, then stops the
// host so that the services waiting on this one (WaitForCompletion) can start. Running it again with the
// same configuration changes nothing.
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

    // The configured admin exists with the configured password after every run. Which account that is:
    // the admin with the configured e-mail, else the oldest admin (nobody can register as admin, so it
    // is the one an earlier configuration seeded), renamed. Nothing is written when nothing changed.
    private async Task EnsureAdminAsync(EventlyDbContext db, CancellationToken cancellationToken)
    {
        var configured = options.Value.Admin;
        var email = configured.Email.Trim();
        var normalizedEmail = User.Normalize(email);

        var holder = await db.Users.SingleOrDefaultAsync(u => u.NormalizedEmail == normalizedEmail, cancellationToken);
        if (holder is { Role: not Roles.Admin })
        {
            throw new InvalidOperationException(
                $"Evently:Admin:Email is {email}, which belongs to a user who is not an admin: give the admin another e-mail.");
        }
        var admin = holder ?? await db.Users.Where(u => u.Role == Roles.Admin)
            .OrderBy(u => u.CreatedAt).ThenBy(u => u.Id).FirstOrDefaultAsync(cancellationToken);

        if (admin is null)
        {
            admin = new User
            {
                Email = email,
                NormalizedEmail = normalizedEmail,
                Name = "Administrator",
                Role = Roles.Admin,
                PasswordHash = "",
                CreatedAt = timeProvider.UtcNow()
            };
            admin.PasswordHash = passwordHasher.HashPassword(admin, configured.Password);
            db.Users.Add(admin);
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Created the first admin {Email}", admin.Email);
            return;
        }

        if (admin.Email != email)
        {
            logger.LogInformation("Renamed the admin {OldEmail} to {Email}", admin.Email, email);
            admin.Email = email;
            admin.NormalizedEmail = normalizedEmail;
        }
        if (passwordHasher.VerifyHashedPassword(admin, admin.PasswordHash, configured.Password) != PasswordVerificationResult.Success)
        {
            admin.PasswordHash = passwordHasher.HashPassword(admin, configured.Password);
            logger.LogInformation("Set the configured password of the admin {Email}", email);
        }
        await db.SaveChangesAsync(cancellationToken);

        // Earlier versions added an admin for every e-mail configured; those still have their old passwords.
        var others = await db.Users.CountAsync(u => u.Role == Roles.Admin && u.Id != admin.Id, cancellationToken);
        if (others > 0)
        {
            logger.LogWarning("{Count} admin accounts besides {Email} exist: remove any that are stale", others, email);
        }
    }
}
