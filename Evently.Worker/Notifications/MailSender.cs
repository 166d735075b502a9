using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using Evently.Domain.Notifications;
using Evently.Worker.Infrastructure;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Evently.Worker.Notifications;

/// <summary>
/// Mails every notification through the AppHost's SMTP server (ConnectionStrings:smtp, smtp://host:port),
/// off the request path; a buyer's answers from one on-sale as one mail, once the event's line is done
/// (<see cref="MailQueue.TakeDueAsync"/>). A refused mail is retried with backoff and marked failed after five refusals; an
/// unreachable server refuses nothing, so its mails simply wait for it to return. An on-sale's drain goes first
/// (<see cref="DrainPriority"/>).
/// </summary>
public sealed class MailSender(
    IServiceScopeFactory scopes, WorkSignal signal, IConfiguration configuration, TimeProvider timeProvider,
    MailMetrics metrics, DrainPriority drain, ILogger<MailSender> logger)
    : WorkerLoop(scopes, signal, logger)
{
    public static readonly ActivitySource ActivitySource = new("Evently.Notifications");
    private static readonly TimeSpan ServerDownRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LineRecheck = TimeSpan.FromSeconds(1);

    /// <summary>The ids of the notifications a mail carries, comma-separated.</summary>
    public const string NotificationsHeader = "X-Evently-Notifications";

    // Mails the server took whose record the database refused (it was down): recorded before anything else is
    // taken, so that their lease running out never sends them again. At most one batch, as no batch is taken
    // while any wait here.
    private readonly List<long> _sentUnrecorded = [];

    private DateTime _onlyHeldUntil = DateTime.MinValue;

    protected override async Task<TimeSpan> RunPassAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var queue = services.GetRequiredService<MailQueue>();
        await RecordSentAsync(queue, cancellationToken);
        var inLine = drain.EventsInLine();
        // The drain wakes every loop after each batch: while answers wait for their line, a look that finds only them
        // (a scan past all of them) is not repeated for a while.
        var now = timeProvider.GetUtcNow().UtcDateTime;
        if (inLine.Count > 0 && now < _onlyHeldUntil)
        {
            return _onlyHeldUntil - now;
        }
        List<PendingMail> due;
        while (drain.HoldBack() is null && (due = await queue.TakeDueAsync(20, inLine, cancellationToken)).Count > 0)
        {
            if (!await SendAsync(queue, due, cancellationToken))
            {
                return ServerDownRetry;
            }
        }
        if (drain.HoldBack() is { } hold)
        {
            return hold;
        }
        if (await queue.NextDueAsync(cancellationToken) is not { } next)
        {
            return LongestSleep;
        }
        // Answers waiting for their line are due already: look again in a while, not at once.
        now = timeProvider.GetUtcNow().UtcDateTime;
        if (inLine.Count > 0 && next - now < LineRecheck)
        {
            _onlyHeldUntil = now + LineRecheck;
            return LineRecheck;
        }
        return next - now;
    }

    /// <returns>false when the mail server could not be reached: the rest of the batch waits for it.</returns>
    /// <remarks>
    /// One attempt per mail: each mail is recorded (sent, refused or deferred) as soon as its outcome is known, so a
    /// failure later in the batch never sends it again; whatever the batch left unrecorded waits for its lease.
    /// </remarks>
    internal async Task<bool> SendAsync(MailQueue queue, List<PendingMail> batch, CancellationToken ct)
    {
        await RecordSentAsync(queue, ct);
        if (batch.Count == 0)
        {
            return true;
        }
        // A server that stops answering counts as lost after this, rather than MailKit's two minutes.
        using var client = new SmtpClient { Timeout = (int)ServerTimeout.TotalMilliseconds };
        try
        {
            var server = new Uri(configuration.GetConnectionString("smtp")
                ?? throw new InvalidOperationException("ConnectionStrings:smtp is not configured."));
            await client.ConnectAsync(server.Host, server.Port, SecureSocketOptions.Auto, ct);
        }
        catch (Exception ex) when (IsUnreachable(ex) || ex is SmtpCommandException)
        {
            // Unreachable, or up but not taking mail (421 at the greeting): no mail was tried, none counts an attempt.
            logger.LogWarning(ex, "The mail server is unavailable; {Count} mails wait for it", batch.Count);
            await queue.DeferAsync(batch.SelectMany(m => m.NotificationIds).ToList(), ServerDownRetry, ct);
            return false;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            var mail = batch[i];
            // Joins the trace of the request that caused the notification (a cancel, an offer's expiry).
            using var activity = ActivitySource.StartActivity("send mail", ActivityKind.Producer, mail.TraceParent ?? default(string));
            activity?.SetTag("evently.notification_id", mail.NotificationId);
            activity?.SetTag("evently.notifications", mail.NotificationIds.Count);
            activity?.SetTag("evently.notification_kind", mail.Kind);
            try
            {
                await client.SendAsync(Compose(mail), ct);
            }
            catch (Exception ex) when (IsUnreachable(ex))
            {
                logger.LogWarning(ex, "Lost the mail server while sending; the rest of the batch waits for it");
                await queue.DeferAsync(batch[i..].SelectMany(m => m.NotificationIds).ToList(), ServerDownRetry, ct);
                return false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Refused by the server (or a mail it could never take): retried with backoff, given up after five.
                var failed = await queue.MarkRefusedAsync(mail, ct);
                activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                logger.LogWarning(ex, "The mail server refused notification {Id} (attempt {Attempt}{Final})",
                    mail.NotificationId, mail.Attempts + 1, failed ? ", giving up" : "");
                if (failed)
                {
                    metrics.Failed();
                }
                continue;
            }
            // Recorded at once, whatever happens next: this mail is never sent twice by one worker. With the database
            // down, it is remembered instead, and so is the rest of the batch's without asking the database again.
            metrics.Sent();
            if (_sentUnrecorded.Count == 0)
            {
                try
                {
                    await queue.MarkSentAsync(mail.NotificationIds, CancellationToken.None);
                    continue;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Could not record notification {Id} as mailed; recording it once the database answers", mail.NotificationId);
                }
            }
            _sentUnrecorded.AddRange(mail.NotificationIds);
        }
        try
        {
            await client.DisconnectAsync(quit: true, ct);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            // Every mail is recorded already.
        }
        return true;
    }

    private async Task RecordSentAsync(MailQueue queue, CancellationToken ct)
    {
        if (_sentUnrecorded.Count > 0)
        {
            await queue.MarkSentAsync(_sentUnrecorded, ct);
            _sentUnrecorded.Clear();
        }
    }

    // A stable Message-Id: should a crash between sending and marking sent make the mail go out again,
    // mail systems can recognise the copy. The header lists every notification the mail carries.
    private static MimeMessage Compose(PendingMail mail)
    {
        var several = mail.NotificationIds.Count > 1;
        var message = new MimeMessage
        {
            MessageId = $"notification-{mail.NotificationId}@evently.local",
            Subject = mail.Kind switch
            {
                NotificationKinds.WaitlistOffer => "Tickets are held for you",
                NotificationKinds.OfferExpired => "Your ticket offer has expired",
                NotificationKinds.EventCancelled => "An event you booked was cancelled",
                NotificationKinds.EventChanged => "An event you booked has changed",
                NotificationKinds.BookingConfirmed => several ? "Your booking requests are answered: tickets confirmed" : "Your booking is confirmed",
                NotificationKinds.BookingRejected => several ? "Your booking requests were not confirmed" : "Your booking request was not confirmed",
                _ => "A message from Evently"
            },
            Body = new TextPart("plain") { Text = $"Hello {mail.Name},\n\n{string.Join("\n", mail.Messages)}\n\nEvently" }
        };
        message.Headers.Add(NotificationsHeader, string.Join(", ", mail.NotificationIds));
        message.From.Add(new MailboxAddress("Evently", "no-reply@evently.local"));
        message.To.Add(new MailboxAddress(mail.Name, mail.To));
        return message;
    }

    private static bool IsUnreachable(Exception ex) =>
        ex is SocketException or IOException or TimeoutException or ServiceNotConnectedException or SmtpProtocolException;
}

/// <summary>Mails sent and given up on, for the dashboard.</summary>
public sealed class MailMetrics
{
    private readonly Counter<long> _sent;
    private readonly Counter<long> _failed;

    public MailMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create("Evently.Notifications");
        _sent = meter.CreateCounter<long>("evently.mails.sent", "{mail}", "Notification e-mails sent");
        _failed = meter.CreateCounter<long>("evently.mails.failed", "{mail}", "Notification e-mails given up after five refusals");
    }

    public void Sent() => _sent.Add(1);
    public void Failed() => _failed.Add(1);
}
