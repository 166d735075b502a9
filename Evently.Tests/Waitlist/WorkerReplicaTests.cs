using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Evently.Tests.Waitlist;

// Several workers share the outbox (SKIP LOCKED) and lock the event row before counting free tickets:
// racing replicas never offer a ticket twice, and one killed mid-work leaves nothing half done.
[Collection(AppCollection.Name)]
public sealed class WorkerReplicaTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task Three_workers_racing_on_many_cancels_never_offer_a_ticket_twice()
    {
        await using var second = await ServiceProcess.StartWorkerAsync(fixture);
        await using var third = await ServiceProcess.StartWorkerAsync(fixture);
        var (eventIds, bookings) = await SoldOutEventsWithWaitlistsAsync(events: 8, ticketsEach: 3, waiters: 4);

        await CancelAllAsync(bookings);

        await WaitForEveryTicketOfferedAsync(eventIds, ticketsEach: 3);
    }

    [Fact]
    public async Task A_worker_killed_in_the_middle_of_offers_leaves_every_count_right()
    {
        var (eventIds, bookings) = await SoldOutEventsWithWaitlistsAsync(events: 20, ticketsEach: 2, waiters: 3);
        await using (var doomed = await ServiceProcess.StartWorkerAsync(fixture))
        {
            var cancels = CancelAllAsync(bookings);
            await Task.Delay(Random.Shared.Next(20, 300));
            doomed.Kill();
            await cancels;
        }
        await using var restarted = await ServiceProcess.StartWorkerAsync(fixture);

        await WaitForEveryTicketOfferedAsync(eventIds, ticketsEach: 2);

        // No mail lost: every notification of these events goes out.
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            await using var db = fixture.CreateDbContext();
            return !await db.Notifications.AnyAsync(n => n.EventId != null && eventIds.Contains(n.EventId.Value) && n.EmailedAt == null);
        }, TimeSpan.FromSeconds(30), "every notification's mail");
    }

    private async Task<(List<long> EventIds, List<(Caller Holder, long BookingId)> Bookings)> SoldOutEventsWithWaitlistsAsync(
        int events, int ticketsEach, int waiters)
    {
        using var admin = await fixture.AdminAsync();
        var holders = await Task.WhenAll(Enumerable.Range(0, ticketsEach).Select(_ => fixture.NewUserAsync()));
        var waiting = await Task.WhenAll(Enumerable.Range(0, waiters).Select(_ => fixture.NewUserAsync()));
        var eventIds = new List<long>();
        var bookings = new List<(Caller, long)>();
        for (var i = 0; i < events; i++)
        {
            var evt = await admin.CreateEventAsync(capacity: ticketsEach);
            eventIds.Add(evt.Id);
            foreach (var holder in holders)
            {
                bookings.Add((holder, (await holder.BookAsync(evt.Id, 1).BookedAsync()).Id));
            }
            foreach (var waiter in waiting)
            {
                await waiter.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
            }
        }
        return (eventIds, bookings);
    }

    private static async Task CancelAllAsync(List<(Caller Holder, long BookingId)> bookings)
    {
        var answers = await Task.WhenAll(bookings.Select(b => b.Holder.Http.DeleteAsync($"/api/bookings/{b.BookingId}")));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NoContent, a.StatusCode));
    }

    // Offers expire after the fixture's short window and pass on, so the counts are checked as invariants on
    // consistent snapshots while the workers run: the tickets held are exactly those of open offers, within
    // capacity; no entry is offered twice; and in the end every freed ticket was offered and the outbox is empty.
    private Task WaitForEveryTicketOfferedAsync(List<long> eventIds, int ticketsEach) =>
        WaitlistTestApi.EventuallyAsync(async () =>
        {
            await using var db = fixture.CreateDbContext();
            return await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
            {
                await using var snapshot = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
                var events = await db.Events.AsNoTracking().Where(e => eventIds.Contains(e.Id)).ToListAsync();
                var offers = await db.WaitlistEntries.AsNoTracking()
                    .Where(w => eventIds.Contains(w.EventId) && w.Status == WaitlistStatus.Offered).ToListAsync();
                var told = await db.Notifications.AsNoTracking()
                    .Where(n => n.EventId != null && eventIds.Contains(n.EventId.Value) && n.Kind == NotificationKinds.WaitlistOffer)
                    .Select(n => new { n.UserId, n.EventId }).ToListAsync();
                var pending = await db.OutboxMessages.AnyAsync(m => eventIds.Contains(m.EventId) && m.ProcessedAt == null);

                foreach (var evt in events)
                {
                    Assert.Equal(0, evt.Booked);
                    Assert.Equal(offers.Where(o => o.EventId == evt.Id).Sum(o => o.Quantity), evt.Held);
                    Assert.InRange(evt.Held, 0, evt.Capacity);
                }
                Assert.Equal(told.Count, told.Distinct().Count());
                return !pending && events.All(e => told.Count(t => t.EventId == e.Id) >= ticketsEach);
            });
        }, TimeSpan.FromSeconds(30), "every freed ticket offered");
}
