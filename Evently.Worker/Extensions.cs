using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Evently.Worker.Bookings;
using Evently.Domain.Notifications;
using Evently.Domain.Waitlist;
using Evently.Worker.Infrastructure;
using Evently.Worker.Notifications;
using Evently.Worker.Waitlist;

namespace Evently.Worker;

public static class Extensions
{
    // One hosted service per duty, each a small loop around a handler of Evently.Domain.
    public static void AddWorkerServices(this IHostApplicationBuilder builder)
    {
        builder.AddEventlyDbContext();
        builder.AddEventlyRedisClient();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddWaitlistOffers();
        builder.Services.AddSingleton<MailMetrics>();
        builder.Services.AddScoped<OfferService>();
        builder.Services.AddEventCascades();
        builder.Services.AddScoped<MailQueue>();
        builder.Services.AddScoped<IdempotencyLedger>();
        builder.Services.AddScoped<QueuedBookings>();
        builder.Services.AddSingleton<BookingMetrics>();
        builder.Services.AddSingleton<QueueReader>();
        builder.Services.AddSingleton<QueueOpening>();
        builder.Services.AddSingleton<QueueMetrics>();
        builder.Services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section);

        builder.Services.AddSingleton<WorkSignal>();
        builder.Services.AddSingleton<DrainPriority>();
        builder.Services.AddHostedService<WorkSubscription>();
        builder.Services.AddHostedService<InfrastructureCheck>();
        builder.Services.AddHostedService<OutboxRelay>();
        builder.Services.AddHostedService<OfferExpirer>();
        builder.Services.AddHostedService<MailSender>();
        builder.Services.AddHostedService<QueueDrainer>();
    }
}
