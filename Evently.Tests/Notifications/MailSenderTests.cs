using System.Diagnostics.Metrics;
using Evently.AppHost.Infrastructure;
using Evently.Domain.Notifications;
using Evently.Worker.Infrastructure;
using Evently.Worker.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evently.Tests.Notifications;

/// <summary>
/// The mail sender against an SMTP server of the test's own that refuses, dies or hangs: one attempt per mail, each
/// recorded as soon as its outcome is known. The mails are made leased for ten minutes, so that the app's own workers
/// leave them to the sender under test.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class MailSenderTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task With_the_mail_server_unreachable_every_mail_of_the_batch_waits_for_it_without_an_attempt()
    {
        var mails = await LeasedMailsAsync(3);
        await using var db = fixture.CreateDbContext();
        var before = DateTime.UtcNow;

        var sent = await Sender($"smtp://127.0.0.1:{LocalProcesses.FreePort()}").SendAsync(new MailQueue(db, TimeProvider.System), mails, default);

        Assert.False(sent);
        var rows = await RowsAsync(mails);
        Assert.All(rows, row =>
        {
            Assert.Equal((null, 0), (row.EmailedAt, row.EmailAttempts));
            // Deferred by seconds, not left to the ten-minute lease.
            Assert.InRange(row.NextEmailAttemptAt!.Value, before, DateTime.UtcNow.AddSeconds(10));
        });
    }

    [Fact]
    public async Task A_sender_stopped_in_the_middle_of_a_batch_has_recorded_every_mail_it_sent()
    {
        await using var sink = new SmtpSink(n => n <= 2 ? SinkAnswer.Accept : SinkAnswer.Hang);
        var mails = await LeasedMailsAsync(4);
        await using var db = fixture.CreateDbContext();
        using var stop = new CancellationTokenSource();

        var sending = Sender(sink.ConnectionString).SendAsync(new MailQueue(db, TimeProvider.System), mails, stop.Token);
        await WaitlistTestApi.EventuallyAsync(() => Task.FromResult(sink.Received == 3), TimeSpan.FromSeconds(10), "the third mail");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);

        var rows = await RowsAsync(mails);
        Assert.All(rows.Take(2), row => Assert.NotNull(row.EmailedAt));
        Assert.All(rows.Skip(2), row => Assert.Null(row.EmailedAt));
        Assert.Equal(mails.Take(2).Select(m => $"notification-{m.NotificationId}@evently.local"), sink.Accepted);
    }

    [Fact]
    public async Task A_refused_mail_counts_an_attempt_and_a_server_lost_mid_batch_leaves_the_rest_waiting_for_it()
    {
        await using var sink = new SmtpSink(n => n switch { 1 => SinkAnswer.Accept, 2 => SinkAnswer.Refuse, _ => SinkAnswer.Drop });
        var mails = await LeasedMailsAsync(5);
        await using var db = fixture.CreateDbContext();
        var before = DateTime.UtcNow;

        var sent = await Sender(sink.ConnectionString).SendAsync(new MailQueue(db, TimeProvider.System), mails, default);

        Assert.False(sent);
        var rows = await RowsAsync(mails);
        Assert.NotNull(rows[0].EmailedAt);
        Assert.Equal((null, 1), (rows[1].EmailedAt, rows[1].EmailAttempts));
        Assert.InRange(rows[1].NextEmailAttemptAt!.Value, before, DateTime.UtcNow.AddSeconds(10));
        Assert.All(rows.Skip(2), row =>
        {
            Assert.Equal((null, 0), (row.EmailedAt, row.EmailAttempts));
            Assert.InRange(row.NextEmailAttemptAt!.Value, before, DateTime.UtcNow.AddSeconds(10));
        });
    }

    [Fact]
    public async Task A_mail_that_carries_several_notifications_is_sent_once_and_recorded_for_each()
    {
        await using var sink = new SmtpSink(n => n == 1 ? SinkAnswer.Refuse : SinkAnswer.Accept);
        var rows = await LeasedMailsAsync(3);
        var mail = rows[0] with { NotificationIds = rows.Select(m => m.NotificationId).ToList(), Messages = rows.Select(m => m.Messages[0]).ToList() };
        await using var db = fixture.CreateDbContext();
        var queue = new MailQueue(db, TimeProvider.System);
        var sender = Sender(sink.ConnectionString);

        // Refused: one attempt counted on each notification it carries.
        Assert.True(await sender.SendAsync(queue, [mail], default));
        Assert.All(await RowsAsync(rows), row => Assert.Equal((null, 1), (row.EmailedAt, row.EmailAttempts)));

        Assert.True(await sender.SendAsync(queue, [mail with { Attempts = 1 }], default));
        Assert.All(await RowsAsync(rows), row => Assert.NotNull(row.EmailedAt));
        Assert.Equal([$"notification-{rows[0].NotificationId}@evently.local"], sink.Accepted);
    }

    [Fact]
    public async Task A_mail_sent_while_the_database_is_down_is_recorded_once_it_answers_and_is_not_sent_again()
    {
        var (proxy, throughProxy) = FaultProxy.ForDatabase(fixture.DatabaseConnectionString);
        await using var _ = proxy;
        // The database goes down as the server takes the first mail: after its send, before its record.
        await using var sink = new SmtpSink(n =>
        {
            if (n == 1)
            {
                proxy.Break();
            }
            return SinkAnswer.Accept;
        });
        var mails = await LeasedMailsAsync(3);
        await using var db = fixture.CreateDbContext(throughProxy);
        var queue = new MailQueue(db, TimeProvider.System);
        var sender = Sender(sink.ConnectionString);

        Assert.True(await sender.SendAsync(queue, mails, default));
        Assert.Equal(3, sink.Received);
        Assert.All(await RowsAsync(mails), row => Assert.Null(row.EmailedAt));

        // The next pass records them first; their lease never runs out on a mail that was sent.
        proxy.Restore();
        Assert.True(await sender.SendAsync(queue, [], default));

        Assert.All(await RowsAsync(mails), row => Assert.NotNull(row.EmailedAt));
        Assert.Equal(mails.Select(m => $"notification-{m.NotificationId}@evently.local"), sink.Accepted);
    }

    private static MailSender Sender(string smtp)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:smtp"] = smtp }).Build();
        return new MailSender(services.GetRequiredService<IServiceScopeFactory>(), new WorkSignal(), configuration, TimeProvider.System,
            new MailMetrics(services.GetRequiredService<IMeterFactory>()), new DrainPriority(TimeProvider.System), NullLogger<MailSender>.Instance);
    }

    private async Task<List<PendingMail>> LeasedMailsAsync(int count)
    {
        using var user = await fixture.NewUserAsync();
        await using var db = fixture.CreateDbContext();
        var now = DateTime.UtcNow;
        var rows = Enumerable.Range(1, count).Select(i => new Notification
        {
            UserId = user.User.Id, Kind = NotificationKinds.EventChanged, Message = $"Mail {i} of {count}", CreatedAt = now,
            NextEmailAttemptAt = now.AddMinutes(10)
        }).ToList();
        db.Notifications.AddRange(rows);
        await db.SaveChangesAsync();
        return rows.Select(n => new PendingMail([n.Id], user.User.Email, user.User.Name, n.Kind, [n.Message], null, 0)).ToList();
    }

    private async Task<List<Notification>> RowsAsync(List<PendingMail> mails)
    {
        await using var db = fixture.CreateDbContext();
        var ids = mails.Select(m => m.NotificationId).ToList();
        return await db.Notifications.AsNoTracking().Where(n => ids.Contains(n.Id)).OrderBy(n => n.Id).ToListAsync();
    }
}
