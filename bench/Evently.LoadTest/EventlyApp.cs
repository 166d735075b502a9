using Aspire.Hosting.Testing;
using Evently.Tests.Infrastructure;

namespace Evently.LoadTest;

/// <summary>The whole app, started like the end-to-end tests start it, with rate limits out of the way.</summary>
internal sealed class EventlyApp(LocalApp local) : IAsyncDisposable
{
    public Uri ApiEndpoint => local.App.GetEndpoint("api", "http");

    public static async Task<EventlyApp> StartAsync()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        return new EventlyApp(await LocalApp.StartAsync(
        [
            "Evently:Api:RateLimiting:UserTokenLimit=100000000",
            "Evently:Api:RateLimiting:AnonymousTokenLimit=100000000",
            "Evently:Api:RateLimiting:AuthTokenLimit=100000000"
        ], cancellation.Token));
    }

    public ValueTask DisposeAsync() => local.DisposeAsync();
}
