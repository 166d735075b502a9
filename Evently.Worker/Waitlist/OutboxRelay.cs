using Evently.Domain.Infrastructure;
using Evently.Worker.Infrastructure;

namespace Evently.Worker.Waitlist;

/// <summary>Works through the outbox: an event's cancel (its bookings and line) and notices, in batches.</summary>
public sealed class OutboxRelay(IServiceScopeFactory scopes, WorkSignal signal, ILogger<OutboxRelay> logger)
    : WorkerLoop(scopes, signal, logger)
{
    protected override async Task<TimeSpan> RunPassAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await RepeatUntilDoneAsync(services.GetRequiredService<OutboxProcessor>().ProcessNextBatchAsync, cancellationToken);
        return LongestSleep;
    }
}
