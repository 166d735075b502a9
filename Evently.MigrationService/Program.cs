using Evently.Domain.Auth;
using Evently.Domain.Infrastructure;
using Evently.MigrationService;
using Microsoft.AspNetCore.Identity;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddEventlyDbContext();
builder.Services.AddOptions<SeedOptions>().Bind(builder.Configuration.GetSection("Evently")).ValidateOnStart();
builder.Services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddHostedService<MigrationWorker>();
builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(MigrationWorker.ActivitySourceName));

builder.Build().Run();
