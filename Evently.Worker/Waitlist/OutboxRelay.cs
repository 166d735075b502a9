using Evently.Domain.Waitlist;
using Evently.Worker.Infrastructure;

namespace Evently.Worker.Waitlist;

/// <summary>Turns outbox rows (tickets freed, offers expired, events cancelled) into offers and notifications.</summary>
public sealed class OutboxRelay(IServiceScopeFactory scopes, WorkSignal signal, ILogger<OutboxRelay> logger)
    : WorkerLoop(scopes, signal, logger)
{
    protected override async Task<TimeSpan> RunPassAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await RepeatUntilDoneAsync(services.GetRequiredService<OfferService>().ProcessNextOutboxMessageAsync, cancellationToken);
        return LongestSleep;
    }
}
