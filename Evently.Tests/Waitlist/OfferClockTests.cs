using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using System.Diagnostics.Metrics;

namespace Evently.Tests.Waitlist;

// The offer and mail rules with the clock in the test's hand (FakeTimeProvider), on the real database: no
// waiting for a window to pass or a backoff to run out.
[Collection(AppCollection.Name)]
public sealed class OfferClockTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task An_offer_past_its_window_expires_and_the_tickets_pass_to_the_next_in_line()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 1);
        using var holder = await fixture.NewUserAsync();
        var booking = await holder.BookAsync(evt.Id, 1).BookedAsync();
        using var first = await fixture.NewUserAsync();
        using var second = await fixture.NewUserAsync();
        var firstEntry = await first.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        var secondEntry = await second.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        await holder.Http.DeleteAsync($"/api/bookings/{booking.Id}");
        await WaitlistTestApi.EventuallyAsync(async () => (await first.EntryAsync(firstEntry.Id)).Status == "offered",
            TimeSpan.FromSeconds(3), "the first offer");

        // An hour later by the test's clock: far past the window, whatever the worker's clock says.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        await using var db = fixture.CreateDbContext();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new WaitlistMetrics(services.GetRequiredService<IMeterFactory>());
        var offers = new OfferService(db, clock,
            new WaitlistOffers(db, Options.Create(new WaitlistOptions { OfferSeconds = 60 }), metrics), metrics);
        while (await offers.ExpireNextOfferAsync(CancellationToken.None))
        {
        }

        Assert.Equal("expired", (await first.EntryAsync(firstEntry.Id)).Status);
        await WaitlistTestApi.EventuallyAsync(async () => (await second.EntryAsync(secondEntry.Id)).Status == "offered",
            TimeSpan.FromSeconds(3), "the offer passed on");
        Assert.Contains(await first.NotificationsAsync(), n => n.Kind == "offer-expired");
        await using var check = fixture.CreateDbContext();
        Assert.Equal(1, (await check.Events.AsNoTracking().SingleAsync(e => e.Id == evt.Id)).Held);
    }

    [Fact]
    public async Task A_mail_refused_five_times_is_marked_failed_after_growing_waits()
    {
        using var user = await fixture.NewUserAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(1));
        await using var db = fixture.CreateDbContext();
        var notification = new Notification
        {
            UserId = user.User.Id, Kind = NotificationKinds.EventChanged, Message = "A mail the server refuses.",
            CreatedAt = DateTime.UtcNow, NextEmailAttemptAt = clock.GetUtcNow().UtcDateTime
        };
        db.Notifications.Add(notification);
        await db.SaveChangesAsync();
        var queue = new MailQueue(db, clock);

        // The app's workers take their mail beside this test, and a take skips the rows another one is scanning (SKIP
        // LOCKED), this one's too while a worker's scan passes it: look again.
        async Task<PendingMail> TakeThisOneAsync()
        {
            for (var look = 1; ; look++)
            {
                var taken = await queue.TakeDueAsync(10_000, [], CancellationToken.None);
                if (taken.Any(m => m.NotificationId == notification.Id) || look == 10)
                {
                    return Assert.Single(taken, m => m.NotificationId == notification.Id);
                }
                await Task.Delay(100);
            }
        }

        var waits = new List<TimeSpan>();
        for (var attempt = 0; attempt < MailQueue.MaxAttempts; attempt++)
        {
            var mail = await TakeThisOneAsync();
            Assert.Equal(attempt, mail.Attempts);
            var failed = await queue.MarkRefusedAsync(mail, CancellationToken.None);
            Assert.Equal(attempt == MailQueue.MaxAttempts - 1, failed);
            var stored = await db.Notifications.AsNoTracking().SingleAsync(n => n.Id == notification.Id);
            waits.Add(stored.NextEmailAttemptAt!.Value - clock.GetUtcNow().UtcDateTime);
            clock.Advance(TimeSpan.FromMinutes(5));
        }

        var given = await db.Notifications.AsNoTracking().SingleAsync(n => n.Id == notification.Id);
        Assert.Equal((MailQueue.MaxAttempts, (DateTime?)null), (given.EmailAttempts, given.EmailedAt));
        Assert.NotNull(given.EmailFailedAt);
        Assert.True(waits.SequenceEqual(waits.Order()) && waits[^1] > waits[0], "each retry waits longer");
        Assert.DoesNotContain(await queue.TakeDueAsync(10_000, [], CancellationToken.None), m => m.NotificationId == notification.Id);
    }
}
