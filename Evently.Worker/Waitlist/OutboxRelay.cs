using Evently.Domain.Events;
using Evently.Domain.Waitlist;
using StackExchange.Redis;
using Evently.Worker.Infrastructure;

namespace Evently.Worker.Waitlist;

/// <summary>Turns outbox rows (tickets freed, offers expired, events cancelled) into offers and notifications.</summary>
public sealed class OutboxRelay(IServiceScopeFactory scopes, WorkSignal signal, ILogger<OutboxRelay> logger)
    : WorkerLoop(scopes, signal, logger)
{
    protected override async Task<TimeSpan> RunPassAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (await RepeatUntilDoneAsync(services.GetRequiredService<OfferService>().ProcessNextOutboxMessageAsync, cancellationToken))
        {
            // Offers hold tickets: event reads must show it.
            await EventReadsGeneration.TryIncrementAsync(services.GetRequiredService<IConnectionMultiplexer>());
        }
        return LongestSleep;
    }
}
