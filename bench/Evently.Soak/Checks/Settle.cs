using System.Diagnostics;
using MySqlConnector;

namespace Evently.Soak.Checks;

/// <summary>
/// After the nemesis has stopped and the load is over: waits until every process is running and healthy, every
/// queued request the clients were told of (202) has its answer in the database, the outbox is relayed, no offer
/// is past its expiry, no mail is due, and smtp4dev has stopped storing new mails. What is still pending after
/// <see cref="Limit"/> is left to the invariants (a mail may wait out the two-minute lease of a killed sender).
/// </summary>
internal static class Settle
{
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    public static async Task<TimeSpan> RunAsync(SoakApp app, Ledger ledger, MailBox mailBox)
    {
        var clock = Stopwatch.StartNew();
        if (!await app.Resources.AllHealthyAsync(["api", "worker", "mysql", "redis", "smtp"], Limit))
        {
            Console.WriteLine("  not every resource is running and healthy: the checks run anyway");
        }
        var requestIds = ledger.Queued.Keys.ToList();
        await using var db = new MySqlConnection(app.DatabaseConnectionString);
        await db.OpenAsync();
        string? waitingFor = null;
        var storedBefore = -1;
        while (clock.Elapsed < Limit)
        {
            var unanswered = requestIds.Count == 0 ? 0 : await CountAsync(db,
                $"SELECT {requestIds.Count} - COUNT(*) FROM booking_requests WHERE Status <> 'Queued' AND Id IN ({string.Join(',', requestIds)})");
            var outbox = await CountAsync(db, "SELECT COUNT(*) FROM outbox_messages WHERE ProcessedAt IS NULL");
            var offers = await CountAsync(db, "SELECT COUNT(*) FROM waitlist_entries WHERE Status = 'Offered' AND OfferExpiresAt < UTC_TIMESTAMP(6)");
            var mails = await CountAsync(db, "SELECT COUNT(*) FROM notifications WHERE EmailedAt IS NULL AND EmailFailedAt IS NULL " +
                "AND (NextEmailAttemptAt IS NULL OR NextEmailAttemptAt <= UTC_TIMESTAMP(6))");
            // A mail can carry several notifications (a buyer's on-sale answers): smtp4dev's count is done when it stops growing.
            var stored = await mailBox.CountAsync();
            var storing = stored != storedBefore;
            storedBefore = stored;
            waitingFor = string.Join(", ", new[]
            {
                unanswered > 0 ? $"{unanswered} queued requests unanswered" : null,
                outbox > 0 ? $"{outbox} outbox rows" : null,
                offers > 0 ? $"{offers} offers past expiry" : null,
                mails > 0 ? $"{mails} mails due" : null,
                storing ? $"smtp4dev storing mails ({stored} so far)" : null
            }.Where(w => w is not null));
            if (waitingFor.Length == 0)
            {
                return clock.Elapsed;
            }
            await Task.Delay(1_000);
        }
        Console.WriteLine($"  still pending after {Limit.TotalSeconds:0} s: {waitingFor}");
        return clock.Elapsed;
    }

    private static async Task<long> CountAsync(MySqlConnection db, string sql)
    {
        await using var command = new MySqlCommand(sql, db);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
