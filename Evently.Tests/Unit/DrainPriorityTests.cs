using Evently.Worker.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Evently.Tests.Unit;

// Mail waits while an on-sale drains, however long one batch takes, and never for more than MaxHold in a row.
public sealed class DrainPriorityTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public void Mail_waits_through_a_batch_longer_than_the_quiet_window_and_goes_once_the_drain_is_quiet()
    {
        var priority = new DrainPriority(_clock);
        Assert.Null(priority.HoldBack());

        using (priority.Answering())
        {
            _clock.Advance(DrainPriority.Quiet * 3);
            Assert.NotNull(priority.HoldBack());
        }
        Assert.NotNull(priority.HoldBack());
        _clock.Advance(DrainPriority.Quiet);
        Assert.Null(priority.HoldBack());
    }

    [Fact]
    public void A_drain_that_never_pauses_holds_mail_back_for_MaxHold_at_most()
    {
        var priority = new DrainPriority(_clock);
        var batch = TimeSpan.FromMilliseconds(400);
        var started = _clock.GetUtcNow();
        while (_clock.GetUtcNow() - started < DrainPriority.MaxHold - batch)
        {
            using (priority.Answering())
            {
                Assert.NotNull(priority.HoldBack());
                _clock.Advance(batch);
            }
        }
        _clock.Advance(batch);

        using (priority.Answering())
        {
            Assert.Null(priority.HoldBack());
        }
    }
}
