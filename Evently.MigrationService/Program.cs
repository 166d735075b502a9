using Evently.Domain.Auth;
using Evently.Domain.Infrastructure;
using Evently.MigrationService;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddEventlyDbContext();
builder.Services.AddOptions<SeedOptions>().Bind(builder.Configuration.GetSection(SeedOptions.Section))
    .ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddHostedService<MigrationWorker>();
builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(MigrationWorker.ActivitySourceName));

var host = builder.Build();
try
{
    _ = host.Services.GetRequiredService<IOptions<SeedOptions>>().Value;
}
catch (OptionsValidationException invalid)
{
    // What to fix, in a line or two, rather than a stack trace in the deployment's log.
    foreach (var failure in invalid.Failures)
    {
        Console.Error.WriteLine(failure);
    }
    Environment.ExitCode = 1;
    return;
}
host.Run();
