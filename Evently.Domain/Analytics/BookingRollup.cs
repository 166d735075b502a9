using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Evently.Domain.Analytics;

/// <summary>
/// Bookings of one UTC day, for the events of one shard (<c>EventId % 64</c>). Sharded so that bookings of
/// different events rarely wait for each other's row; a day's figures are the sum over its 64 rows at most.
/// </summary>
public sealed class DailyBookingRollup
{
    public DateOnly Day { get; set; }
    public int Shard { get; set; }

    // Bookings made this day.
    public int Bookings { get; set; }

    // Bookings cancelled this day, whenever they were made.
    public int Cancellations { get; set; }

    // Of the bookings made this day, those cancelled since.
    public int BookingsCancelled { get; set; }

    // Tickets of the bookings made this day that are still confirmed.
    public int TicketsSold { get; set; }
}

/// <summary>A booking made, or a booking cancelled, as the rollups count it.</summary>
public readonly record struct RollupChange(DateTime BookedAt, int Quantity, DateTime? CancelledAt)
{
    public static RollupChange Booked(DateTime bookedAt, int quantity) => new(bookedAt, quantity, null);

    public static RollupChange Cancelled(DateTime bookedAt, int quantity, DateTime cancelledAt) => new(bookedAt, quantity, cancelledAt);
}

/// <summary>
/// Keeps the analytics rollups exact: every write that makes or cancels a booking counts it in the same
/// transaction, after the event row's lock, so the counts commit or roll back with the booking. Per event,
/// the event row's own counters (Booked, BookingsMade, BookingsCancelled) change in the UPDATE that takes or
/// gives back the tickets, at no extra cost; per day, <see cref="DailyBookingRollup"/> rows are recorded here.
/// </summary>
/// <remarks>
/// Lock order, the same everywhere: the event row, then its shard's day rows in ascending day order. A
/// transaction touches the day rows of one event's shard only, so no two writes can wait for each other in a cycle.
/// </remarks>
public static class BookingRollup
{
    public const int Shards = 64;

    /// <summary>
    /// For the direct path's batch, after its INSERTs: the day's rollup counts the bookings that were written, made at
    /// <c>@now</c>, of the attempts listed in place of <c>@attempts</c>, each shard's row once and in ascending shard:
    /// the lock order of the day rows, after every event row of the batch.
    /// </summary>
    public const string RecordBookedSql = """
        INSERT INTO analytics_days (Day, Shard, Bookings, Cancellations, BookingsCancelled, TicketsSold)
          SELECT DATE(@now), EventId % 64, COUNT(*), 0, 0, SUM(Quantity) FROM bookings WHERE AttemptId IN (@attempts)
            GROUP BY EventId % 64 ORDER BY EventId % 64
          ON DUPLICATE KEY UPDATE Bookings = Bookings + VALUES(Bookings), TicketsSold = TicketsSold + VALUES(TicketsSold);
        """;

    /// <summary>
    /// Rebuilds the day rollup and the events' counters from the bookings table, set-based: what the
    /// incremental updates must always equal. Used to fill them after data was loaded around the services
    /// (the benchmark's seeding).
    /// </summary>
    public const string RebuildSql = """
        DELETE FROM analytics_days;
        INSERT INTO analytics_days (Day, Shard, Bookings, Cancellations, BookingsCancelled, TicketsSold)
          SELECT Day, Shard, SUM(Made), SUM(Cancelled), SUM(MadeCancelled), SUM(Tickets) FROM (
            SELECT DATE(CreatedAt) AS Day, EventId % 64 AS Shard, 1 AS Made, 0 AS Cancelled,
                   Status = 'Cancelled' AS MadeCancelled, IF(Status = 'Confirmed', Quantity, 0) AS Tickets
              FROM bookings
            UNION ALL
            SELECT DATE(CancelledAt), EventId % 64, 0, 1, 0, 0 FROM bookings WHERE Status = 'Cancelled'
          ) AS changes
          GROUP BY Day, Shard;
        UPDATE events e
          LEFT JOIN (SELECT EventId, COUNT(*) AS Made, SUM(Status = 'Cancelled') AS Cancelled FROM bookings GROUP BY EventId) b
            ON b.EventId = e.Id
          SET e.BookingsMade = COALESCE(b.Made, 0), e.BookingsCancelled = COALESCE(b.Cancelled, 0);
        """;

    public static int ShardOf(long eventId) => (int)(eventId % Shards);

    /// <summary>Records bookings made or cancelled of one event in the day rollup, in the caller's transaction: one round trip.</summary>
    public static async Task RecordAsync(this DatabaseFacade database, long eventId, IEnumerable<RollupChange> changes,
        CancellationToken cancellationToken)
    {
        if (RecordSql(eventId, changes) is { } sql)
        {
            await database.ExecuteSqlRawAsync(sql, cancellationToken);
        }
    }

    /// <summary>The statement <see cref="RecordAsync"/> runs, for a caller that sends it with others; null when nothing changed.</summary>
    public static string? RecordSql(long eventId, IEnumerable<RollupChange> changes)
    {
        // Ascending days: the lock order that every writer keeps.
        var days = new SortedDictionary<DateOnly, DailyBookingRollup>();
        foreach (var change in changes)
        {
            var made = Day(days, change.BookedAt);
            if (change.CancelledAt is { } cancelledAt)
            {
                made.BookingsCancelled++;
                made.TicketsSold -= change.Quantity;
                Day(days, cancelledAt).Cancellations++;
            }
            else
            {
                made.Bookings++;
                made.TicketsSold += change.Quantity;
            }
        }
        if (days.Count == 0)
        {
            return null;
        }

        // Only integers and dates, formatted invariantly: nothing here comes from a client as text.
        var shard = ShardOf(eventId);
        var sql = new StringBuilder("INSERT INTO analytics_days (Day, Shard, Bookings, Cancellations, BookingsCancelled, TicketsSold) VALUES ");
        sql.AppendJoin(", ", days.Values.Select(d => Invariant(
            $"('{d.Day:yyyy-MM-dd}', {shard}, {d.Bookings}, {d.Cancellations}, {d.BookingsCancelled}, {d.TicketsSold})")));
        sql.Append("""
             ON DUPLICATE KEY UPDATE Bookings = Bookings + VALUES(Bookings), Cancellations = Cancellations + VALUES(Cancellations),
              BookingsCancelled = BookingsCancelled + VALUES(BookingsCancelled), TicketsSold = TicketsSold + VALUES(TicketsSold);
            """);
        return sql.ToString();
    }

    private static DailyBookingRollup Day(SortedDictionary<DateOnly, DailyBookingRollup> days, DateTime at)
    {
        var day = DateOnly.FromDateTime(at);
        if (!days.TryGetValue(day, out var row))
        {
            days[day] = row = new DailyBookingRollup { Day = day };
        }
        return row;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
