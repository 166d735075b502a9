using Evently.ApiService;
using Evently.ApiService.Admin;
using Evently.ApiService.Analytics;
using Evently.ApiService.Auth;
using Evently.ApiService.Bookings;
using Evently.ApiService.Events;
using Evently.ApiService.Infrastructure;
using Evently.ApiService.Notifications;
using Evently.ApiService.Waitlist;
using Scalar.AspNetCore;

// Slim: no IIS integration, HTTPS configuration or HTTP/3 to load; the API serves plain HTTP behind Aspire's
// proxy or the platform's ingress.
var builder = WebApplication.CreateSlimBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseEventlyForwardedHeaders();
app.UseAdminPage();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseRequestTimeouts();

app.MapOpenApi();
app.MapScalarApiReference("/api-docs", options => options
    .WithTitle("Evently API")
    .AddPreferredSecuritySchemes(OpenApiBearer.SchemeName));
app.MapDefaultEndpoints();

app.MapAuthApi();
app.MapEventsApi();
app.MapBookingsApi();
app.MapWaitlistApi();
app.MapNotificationsApi();
app.MapAnalyticsApi();

app.Run();
