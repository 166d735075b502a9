namespace Evently.Soak.Faults;

/// <summary>Tells the nemesis when an on-sale's buyers start sending, so that some faults land in the middle of one.</summary>
internal sealed class OnSaleSignal
{
    private TaskCompletionSource<DateTime> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<DateTime> NextAsync() => Volatile.Read(ref _next).Task;

    public void Started() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource<DateTime>(TaskCreationOptions.RunContinuationsAsynchronously))
            .TrySetResult(DateTime.UtcNow);
}
