using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Evently.Domain.Idempotency;

public static class IdempotencyRegistration
{
    public static IServiceCollection AddIdempotencyLedger(this IServiceCollection services)
    {
        services.TryAddScoped<IdempotencyLedger>();
        return services;
    }
}
