using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evently.AppHost.Infrastructure;

public static class ResourceProbeExtensions
{
    // Gates dependents (WaitFor) on a real round trip to the server, not just an open port.
    public static IResourceBuilder<T> WithProbe<T>(
        this IResourceBuilder<T> resource, Func<string, CancellationToken, Task> probe)
        where T : IResourceWithConnectionString
    {
        var key = $"{resource.Resource.Name}_probe";
        resource.ApplicationBuilder.Services.AddHealthChecks()
            .Add(new HealthCheckRegistration(key, _ => new ResourceProbe(resource.Resource, probe), null, null));
        return resource.WithHealthCheck(key);
    }

    private sealed class ResourceProbe(IResourceWithConnectionString resource, Func<string, CancellationToken, Task> probe)
        : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
        {
            try
            {
                var connectionString = await resource.GetConnectionStringAsync(cancellationToken)
                    ?? throw new InvalidOperationException($"{resource.Name} has no connection string yet.");
                await probe(connectionString, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex)
            {
                return HealthCheckResult.Unhealthy(ex.Message, ex);
            }
        }
    }
}
