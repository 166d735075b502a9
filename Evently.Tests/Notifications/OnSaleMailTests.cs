using System.Text.Json;
using Aspire.Hosting.Testing;
using Evently.Domain.Bookings;
using Evently.Domain.Infrastructure;
using Evently.Domain.Notifications;
using Evently.Tests.Bookings;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Time.Testing;

namespace Evently.Tests.Notifications;

/// <summary>
/// Every answer of the high-demand queue is a notification and is mailed, but a buyer who sent several requests to
/// one on-sale gets one mail that lists every answer, not one mail per request, however long the on-sale lasts.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class OnSaleMailTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task A_buyers_answers_from_one_on_sale_arrive_as_one_mail_that_lists_them_all()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1, highDemand: true));
        using var buyer = await fixture.NewUserAsync();
        await using var redis = await QueueTestApi.ConnectRedisAsync(fixture);
        var queue = new BookingQueue(redis, TimeProvider.System);

        // Held, so that the three are answered in one batch, as an on-sale's drain answers a buyer's requests.
        await queue.PauseAsync();
        List<QueuedRequestDto> requests = [];
        try
        {
            for (var i = 0; i < 3; i++)
            {
                requests.Add(await QueueTestApi.QueuedAsync(await buyer.BookAsync(evt.Id, 1)));
            }
        }
        finally
        {
            await queue.ResumeAsync();
        }
        var answers = new List<string>();
        foreach (var request in requests)
        {
            answers.Add((await QueueTestApi.AnsweredAsync(buyer, request.RequestId)).Status);
        }
        Assert.Equal(["confirmed", "rejected", "rejected"], answers.Order());

        // Three notifications in the app, each mailed...
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            await using var db = fixture.CreateDbContext();
            return await db.Notifications.CountAsync(n => n.UserId == buyer.User.Id && n.EventId == evt.Id && n.EmailedAt != null) == 3;
        }, TimeSpan.FromSeconds(20), "the answers' mails");
        // ...in one mail that names each request.
        await WaitlistTestApi.EventuallyAsync(async () => (await MailsToAsync(buyer.User.Email)).Count > 0, TimeSpan.FromSeconds(10),
            "smtp4dev to store the mail");
        var mail = Assert.Single(await MailsToAsync(buyer.User.Email));
        Assert.All(requests, request => Assert.Contains($"request {request.RequestId} ", mail));
    }

    [Fact]
    public async Task Answers_wait_for_their_events_line_to_be_done_and_other_mail_does_not()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1, highDemand: true));
        using var buyer = await fixture.NewUserAsync();
        // A clock ahead of the app's workers, and mails due only by it: the workers leave them to the queue under test.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(30));
        await using var db = fixture.CreateDbContext();
        var rows = new[] { NotificationKinds.BookingRejected, NotificationKinds.EventChanged, NotificationKinds.BookingConfirmed }
            .Select(kind => new Notification
            {
                UserId = buyer.User.Id, EventId = evt.Id, Kind = kind, Message = $"A {kind} notification.",
                CreatedAt = clock.GetUtcNow().UtcDateTime.AddMinutes(-1), NextEmailAttemptAt = clock.GetUtcNow().UtcDateTime
            }).ToList();
        db.Notifications.AddRange(rows);
        await db.SaveChangesAsync();
        var queue = new MailQueue(db, clock);

        // While the event has requests in line, its answers wait; the change notice goes.
        var taken = (await queue.TakeDueAsync(10_000, [evt.Id], default)).Where(m => m.To == buyer.User.Email).ToList();
        Assert.Equal([[rows[1].Id]], taken.Select(m => m.NotificationIds));
        await queue.MarkSentAsync(rows[1].Id, default);

        // A line that is never done holds them for at most LongestAnswerHold; then both go, as one mail.
        clock.Advance(MailQueue.LongestAnswerHold);
        taken = (await queue.TakeDueAsync(10_000, [evt.Id], default)).Where(m => m.To == buyer.User.Email).ToList();
        var mail = Assert.Single(taken);
        Assert.Equal([rows[0].Id, rows[2].Id], mail.NotificationIds);
        Assert.Equal(NotificationKinds.BookingConfirmed, mail.Kind);
        Assert.Equal([rows[0].Message, rows[2].Message], mail.Messages);
    }

    [Fact]
    public async Task A_take_is_the_same_query_whatever_the_events_in_line_and_the_buyers()
    {
        // A context with a query cache of its own: what EF Core compiles for the takes, and nothing of other tests'.
        using var compiled = new MemoryCache(new MemoryCacheOptions());
        var options = new DbContextOptionsBuilder<EventlyDbContext>();
        DatabaseExtensions.Configure(options, fixture.DatabaseConnectionString, ServerVersion.Parse("10.11.0-mariadb"));
        await using var db = new EventlyDbContext(options.UseMemoryCache(compiled).Options);
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1, highDemand: true));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(30));
        var queue = new MailQueue(db, clock);

        async Task<List<PendingMail>> TakeAnswerAsync(IReadOnlyCollection<long> eventsInLine)
        {
            using var buyer = await fixture.NewUserAsync();
            db.Notifications.Add(new Notification
            {
                UserId = buyer.User.Id, EventId = evt.Id, Kind = NotificationKinds.BookingRejected, Message = "Not confirmed.",
                CreatedAt = clock.GetUtcNow().UtcDateTime, NextEmailAttemptAt = clock.GetUtcNow().UtcDateTime
            });
            await db.SaveChangesAsync();
            var taken = await queue.TakeDueAsync(10_000, eventsInLine, default);
            Assert.Contains(taken, m => m.To == buyer.User.Email);
            return taken;
        }

        await TakeAnswerAsync([]);
        var queries = compiled.Count;
        await TakeAnswerAsync([evt.Id + 1]);
        await TakeAnswerAsync([evt.Id + 1, evt.Id + 2, evt.Id + 3]);

        Assert.Equal(queries, compiled.Count);
    }

    // The plain-text body of every mail to the address, through smtp4dev's REST API.
    private async Task<List<string>> MailsToAsync(string address)
    {
        using var http = new HttpClient { BaseAddress = fixture.App.GetEndpoint("smtp", "http") };
        var texts = new List<string>();
        foreach (var summary in await fixture.MailsAsync())
        {
            if (summary.Contains(address, StringComparison.OrdinalIgnoreCase))
            {
                var id = JsonDocument.Parse(summary).RootElement.GetProperty("id").ToString();
                texts.Add(await http.GetStringAsync($"/api/messages/{id}/plaintext"));
            }
        }
        return texts;
    }
}
