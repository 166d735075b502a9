using System.Text.Json;
using System.Text.Json.Serialization;
using Evently.ApiService.Auth;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;

namespace Evently.ApiService;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddEventlyDbContext();
        builder.AddRedisClient("redis");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddScoped<EventService>();
        builder.Services.AddScoped<BookingService>();
        builder.Services.AddSingleton<BookingMetrics>();

        builder.AddEventlyAuthentication();
        builder.AddEventlyRateLimiting();
        builder.AddEventlyOutputCache();

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // Malformed JSON and unbindable parameters throw, so the handler can say what was wrong.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower)));

        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer<OpenApiBearer>();
            options.AddOperationTransformer<OpenApiBearer>();
        });
    }
}
