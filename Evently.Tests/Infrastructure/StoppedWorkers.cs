using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// The fixture's workers stopped (through the AppHost's own resource commands, as the dashboard's Stop button does),
/// for a test that must show what the API does alone; started again, and healthy, when disposed.
/// </summary>
public sealed class StoppedWorkers : IAsyncDisposable
{
    private readonly EventlyAppFixture _fixture;

    private StoppedWorkers(EventlyAppFixture fixture) => _fixture = fixture;

    public static async Task<StoppedWorkers> StopAsync(EventlyAppFixture fixture)
    {
        await RunAsync(fixture, KnownResourceCommands.StopCommand);
        var stopped = new HashSet<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await fixture.App.ResourceNotifications.WaitForResourceAsync("worker", update =>
        {
            if (update.Snapshot.State?.Text is { } state && KnownResourceStates.TerminalStates.Contains(state))
            {
                stopped.Add(update.ResourceId);
            }
            return stopped.Count >= EventlyAppFixture.Replicas;
        }, timeout.Token);
        return new StoppedWorkers(fixture);
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync(_fixture, KnownResourceCommands.StartCommand);
        var healthy = new HashSet<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _fixture.App.ResourceNotifications.WaitForResourceAsync("worker", update =>
        {
            if (update.Snapshot.State?.Text == KnownResourceStates.Running && update.Snapshot.HealthStatus == HealthStatus.Healthy)
            {
                healthy.Add(update.ResourceId);
            }
            return healthy.Count >= EventlyAppFixture.Replicas;
        }, timeout.Token);
    }

    private static async Task RunAsync(EventlyAppFixture fixture, string command)
    {
        var model = fixture.App.Services.GetRequiredService<DistributedApplicationModel>();
        var worker = model.Resources.Single(r => r.Name == "worker");
        var result = await fixture.App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(worker, command);
        Assert.True(result.Success, $"{command} of the workers: {result.Message}");
    }
}
