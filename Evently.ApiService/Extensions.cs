using Evently.ApiService.Infrastructure;
using Evently.Domain.Infrastructure;

namespace Evently.ApiService;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddEventlyDbContext();
        builder.AddRedisClient("redis");
        builder.Services.AddSingleton(TimeProvider.System);

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // Malformed JSON and unbindable parameters throw, so the handler can say what was wrong.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        builder.Services.AddOpenApi();
    }
}
