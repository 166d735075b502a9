using Evently.Domain.Waitlist;
using Evently.Worker.Infrastructure;

namespace Evently.Worker.Waitlist;

/// <summary>Expires offers nobody claimed in time, and sleeps until the next one is due.</summary>
public sealed class OfferExpirer(IServiceScopeFactory scopes, WorkSignal signal, TimeProvider timeProvider, ILogger<OfferExpirer> logger)
    : WorkerLoop(scopes, signal, logger)
{
    protected override TimeSpan LongestSleep => TimeSpan.FromSeconds(30);

    protected override async Task<TimeSpan> RunPassAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var offers = services.GetRequiredService<OfferService>();
        await RepeatUntilDoneAsync(offers.ExpireNextOfferAsync, cancellationToken);
        return await offers.NextExpiryAsync(cancellationToken) is { } next
            ? next - timeProvider.GetUtcNow().UtcDateTime + TimeSpan.FromMilliseconds(50)
            : LongestSleep;
    }
}
