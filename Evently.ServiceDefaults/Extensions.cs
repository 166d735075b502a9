using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

// Adds common Aspire services: service discovery, resilience, health checks, and OpenTelemetry.
public static class Extensions
{
    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";

    // Meters and activity sources of Evently itself and of the MySQL driver, exported to the dashboard.
    private static readonly string[] EventlyTelemetrySources = ["Evently", "Evently.*", "MySqlConnector"];

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(EventlyTelemetrySources)
                // Each metric stream allocates room for its cardinality limit up front: at the default 2,000 tag sets
                // that is 144 KiB a stream, 10 MiB over the API's 69. Only the HTTP durations (route × status) need it.
                .AddView(instrument => instrument.Name.EndsWith(".request.duration", StringComparison.Ordinal)
                    ? null
                    : new MetricStreamConfiguration { CardinalityLimit = 100 }))
            .WithTracing(tracing => tracing
                .SetSampler(TraceSampler(builder))
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(EventlyTelemetrySources)
                .AddAspNetCoreInstrumentation(options =>
                    // Health probes would drown the interesting traces.
                    options.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation()
                .AddEntityFrameworkCoreInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    // Every trace in development; in production 'Evently:Telemetry:TraceSampleRatio' (the AppHost's publish
    // mode sets 0.1) keeps the exporter from costing every request. A request's trace follows its caller's choice.
    private static Sampler TraceSampler(IHostApplicationBuilder builder)
    {
        var ratio = builder.Configuration.GetValue<double?>("Evently:Telemetry:TraceSampleRatio")
            ?? (builder.Environment.IsDevelopment() ? 1.0 : 0.1);
        return new ParentBasedSampler(ratio >= 1.0 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio));
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        // /health answers within 2 s whatever hangs: each check (they run at once) gets 1 s, then counts as failed.
        builder.Services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations)
            {
                var check = registration.Factory;
                registration.Timeout = HealthCheckBudget;
                registration.Factory = services => new TimeBoxedHealthCheck(check(services), HealthCheckBudget);
            }
        });
        return builder;
    }

    private static readonly TimeSpan HealthCheckBudget = TimeSpan.FromSeconds(1);

    // The health check service cancels a check at its timeout, but a check that ignores cancellation (a
    // driver stuck on a socket) would still hold /health: this stops waiting for it.
    private sealed class TimeBoxedHealthCheck(IHealthCheck inner, TimeSpan budget) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.CheckHealthAsync(context, cancellationToken).WaitAsync(budget, cancellationToken);
            }
            catch (TimeoutException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"No answer within {budget.TotalSeconds} s.");
            }
        }
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // The contract requires both endpoints in every environment: /health for readiness
        // (every registered check, database and Redis included), /alive for liveness only.
        app.MapHealthChecks(HealthEndpointPath).DisableRateLimiting().DisableHttpMetrics();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains("live")
        }).DisableRateLimiting().DisableHttpMetrics();

        return app;
    }
}
