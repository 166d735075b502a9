using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.Extensions.DependencyInjection;

namespace Evently.Domain.Events;

public static class EventRegistration
{
    /// <summary>An admin's commands on events (the API's).</summary>
    public static IServiceCollection AddEventCommands(this IServiceCollection services)
    {
        services.AddIdempotencyLedger().AddWaitlistOffers();
        return services.AddScoped<CreateEvent>().AddScoped<UpdateEvent>().AddScoped<CancelEvent>();
    }

    /// <summary>What those commands leave to the worker: the outbox and the cascades it runs (the worker's).</summary>
    public static IServiceCollection AddEventCascades(this IServiceCollection services)
    {
        services.AddWaitlistOffers();
        return services.AddScoped<EventCascades>().AddScoped<OutboxProcessor>();
    }
}
