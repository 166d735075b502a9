using Aspire.Hosting.Testing;
using Evently.Tests.Infrastructure;

namespace Evently.LoadTest;

/// <summary>The whole app, started like the end-to-end tests start it, with rate limits out of the way.</summary>
internal sealed class EventlyApp(LocalApp local) : IAsyncDisposable
{
    public Uri ApiEndpoint => local.App.GetEndpoint("api", "http");

    /// <summary>What the services exported to the OTLP endpoint that stands in for the dashboard.</summary>
    public OtlpCounts TelemetryReceived => local.Telemetry.Received;

    public ValueTask<string?> DatabaseConnectionStringAsync() => local.App.GetConnectionStringAsync("evently");

    public ValueTask<string?> RedisConnectionStringAsync() => local.App.GetConnectionStringAsync("redis");

    public static async Task<EventlyApp> StartAsync(IReadOnlyList<string> extraSettings)
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        return new EventlyApp(await LocalApp.StartAsync(
        [
            "Evently:Api:RateLimiting:UserTokenLimit=100000000",
            "Evently:Api:RateLimiting:AnonymousTokenLimit=100000000",
            "Evently:Api:RateLimiting:AuthTokenLimit=100000000",
            // Telemetry in production shape: one trace in ten, as a published app samples them.
            "Evently:Api:Telemetry:TraceSampleRatio=0.1",
            "Evently:Worker:Telemetry:TraceSampleRatio=0.1",
            // Known to the benchmark, which signs the high-demand scenario's tokens with it.
            $"Parameters:jwt-signing-key={HighDemandScenario.SigningKey}",
            .. extraSettings
        ], cancellation.Token));
    }

    public ValueTask DisposeAsync() => local.DisposeAsync();
}
