using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Evently.Domain.Waitlist;

public static class WaitlistRegistration
{
    /// <summary>
    /// Offers to the line where tickets come back, which both the API (cancels, capacity raised, offers given up)
    /// and the worker (offers expired) do; the offer window from <c>Evently:Waitlist</c>.
    /// </summary>
    public static IServiceCollection AddWaitlistOffers(this IServiceCollection services)
    {
        services.AddOptions<WaitlistOptions>().BindConfiguration(WaitlistOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<WaitlistMetrics>();
        services.TryAddScoped<WaitlistOffers>();
        return services;
    }
}
