using System.Text.Json;
using System.Text.Json.Serialization;
using Evently.ApiService.Analytics;
using Evently.ApiService.Auth;
using Evently.ApiService.Events;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Analytics;
using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Evently.Domain.Waitlist;

namespace Evently.ApiService;

public static class Extensions
{
    /// <summary>How enum values are written in JSON, and named in the OpenAPI document: lower-case kebab-case.</summary>
    public static readonly JsonNamingPolicy EnumNaming = JsonNamingPolicy.KebabCaseLower;

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddEventlyDbContext();
        builder.AddEventlyRedisClient();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddEventCommands();
        builder.Services.AddBookingCommands();
        builder.Services.AddSingleton<TicketBatches>();
        builder.Services.AddSingleton<BookingMetrics>();
        builder.Services.AddScoped<WaitlistService>();
        builder.Services.AddScoped<NotificationService>();
        builder.Services.AddSingleton<WorkerNudge>();
        builder.Services.AddSingleton<BookingQueue>();
        builder.Services.AddSingleton<QueueOpening>();
        builder.Services.AddSingleton<Evently.ApiService.Bookings.QueueWatch>();
        builder.Services.AddScoped<QueueReports>();
        builder.Services.AddScoped<AnalyticsService>();
        builder.Services.AddSingleton<AnalyticsCache>();

        builder.AddEventlyAuthentication();
        builder.AddEventlyForwardedHeaders();
        builder.AddEventlyRateLimiting();
        builder.AddEventlyCaching();
        builder.AddEventlyRequestDeadline();

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // Bare status codes (401, 403, unknown routes) get a sentence too: every error carries a detail.
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status401Unauthorized => "A valid bearer token is required: log in with POST /api/auth/login.",
                StatusCodes.Status403Forbidden => "Your role does not allow this.",
                StatusCodes.Status404NotFound => "There is nothing at this address.",
                StatusCodes.Status405MethodNotAllowed => "This address does not accept that method.",
                _ => context.ProblemDetails.Title
            };
            // Every 503 says when to come back.
            if (context.ProblemDetails.Status == StatusCodes.Status503ServiceUnavailable)
            {
                context.HttpContext.Response.Headers.TryAdd("Retry-After", "5");
            }
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // Malformed JSON and unbindable parameters throw, so the handler can say what was wrong.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(EnumNaming));
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });

        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer<OpenApiBearer>();
            options.AddOperationTransformer<OpenApiBearer>();
            options.AddDocumentTransformer<OpenApiContract>();
            options.AddOperationTransformer<OpenApiContract>();
            options.AddSchemaTransformer<OpenApiContract>();
            options.AddSchemaTransformer<OpenApiSchemaRules>();
        });
    }
}
