using System.Data;
using System.Text;
using Evently.Domain.Analytics;
using Evently.Domain.Events;
using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace Evently.Domain.Bookings;

/// <summary>
/// Group commit for direct bookings of tickets (no seats), across events: the bookings that arrive while a batch
/// is being written wait for the next batch, and each batch is one transaction in one round trip: the tickets taken
/// under the events' row locks (for one event, its conditional update and the insert of its bookings; for several,
/// the same in as many statements, not as many per event), then the day rollups and the keys' records of all of
/// them. An idle booking is a batch of one, so nobody waits for a batch to fill; busy bookers, of one event or of
/// many, share the commit and the round trip.
/// </summary>
/// <remarks>
/// Each event's bookings of a batch are written all or nothing: an event that cannot take all of them (too few
/// tickets left, closed, high-demand) writes none, and each of them is then tried alone by <see cref="BookTickets"/>,
/// which has the exact refusals and the retries; the other events' bookings of the batch are written. A batch that
/// fails (an Idempotency-Key already recorded, a database error) writes nothing, and all of it is tried alone.
/// Event rows are locked in ascending id, then the day rows in ascending shard (<see cref="BookingRollup"/>), so two
/// batches never wait for each other in a cycle. One batch at a time per process: batches never queue behind each
/// other's row locks. Batches run on their own connection, apart from any request, so a caller that gives up
/// waiting (its deadline) does not cut the others' batch short.
/// </remarks>
public sealed class TicketBatches(IServiceScopeFactory scopes, BookingMetrics metrics, ILogger<TicketBatches> logger)
{
    public const int MaxBatch = 100;

    private readonly Queue<Waiting> queue = new();
    private bool draining;

    /// <summary>A booking of tickets to be written with others; a key's record is written with it.</summary>
    public sealed record Ticket(long EventId, long UserId, int Quantity, string? IdempotencyKey, string Fingerprint, Guid AttemptId);

    /// <summary>
    /// Writes the booking in the next batch. Null when it could not be written with it (its event could not take all
    /// of the batch's bookings, or the batch failed): then nothing of it was, and the caller books alone.
    /// </summary>
    public async Task<Booking?> BookAsync(Ticket ticket, DateTime now, CancellationToken cancellationToken)
    {
        var waiting = new Waiting(ticket, now);
        lock (queue)
        {
            queue.Enqueue(waiting);
            if (!draining)
            {
                draining = true;
                _ = Task.Run(DrainAsync);
            }
        }

        try
        {
            return await waiting.Answer.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Not yet in a batch: it never will be. Already in one: it may still be written, as a 503 says.
            waiting.GaveUp = true;
            throw;
        }
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            var batch = new List<Waiting>();
            var keys = new HashSet<(long, string)>();
            lock (queue)
            {
                while (batch.Count < MaxBatch && queue.TryDequeue(out var next))
                {
                    if (next.GaveUp)
                    {
                        continue;
                    }
                    if (next.Ticket.IdempotencyKey is { } key && !keys.Add((next.Ticket.UserId, key)))
                    {
                        // A twin of a keyed booking in this batch would fail all of it on the key's record: it goes alone.
                        next.Answer.TrySetResult(null);
                        continue;
                    }
                    batch.Add(next);
                }
                if (batch.Count == 0)
                {
                    draining = false;
                    return;
                }
            }

            try
            {
                var written = await WriteAsync(batch);
                metrics.Batched(batch.Count, written.Count == batch.Count);
                foreach (var waiting in batch)
                {
                    waiting.Answer.TrySetResult(written.GetValueOrDefault(waiting.Ticket.AttemptId));
                }
            }
            catch (Exception ex)
            {
                // Nothing the batch's callers could not do alone: they book alone and meet the error themselves.
                logger.LogDebug(ex, "A batch of {Count} direct bookings failed; each is booked alone", batch.Count);
                metrics.Batched(batch.Count, false);
                foreach (var waiting in batch)
                {
                    waiting.Answer.TrySetResult(null);
                }
            }
        }
    }

    // One round trip; the bookings written, by attempt: every one of an event's, or none of them.
    private async Task<Dictionary<Guid, Booking>> WriteAsync(List<Waiting> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EventlyDbContext>();
        var tickets = batch.Select(w => w.Ticket).ToList();
        // All of one batch are stamped with the time its first caller asked.
        var now = batch[0].Now;
        // Bounded by the connection's own timeouts, not by any one caller's deadline.
        await db.Database.OpenConnectionAsync(CancellationToken.None);
        var connection = (MySqlConnection)db.Database.GetDbConnection();
        try
        {
            await using var command = Command(connection, tickets, now);
            return (await ReadWrittenAsync(command, tickets, now)).ToDictionary(b => b.AttemptId!.Value);
        }
        catch (MySqlException)
        {
            // Rolled back (the server does, with a lost connection), unless the COMMIT had run: the tokens tell.
            await RollBackQuietlyAsync(connection);
            var attempts = tickets.Select(t => (Guid?)t.AttemptId).ToList();
            return await db.Bookings.AsNoTracking().Include(b => b.Event)
                .Where(b => attempts.Contains(b.AttemptId))
                .ToDictionaryAsync(b => b.AttemptId!.Value, CancellationToken.None);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// The batch, as one transaction: the tickets taken (<see cref="AppendTakeOfOneEvent"/>, or
    /// <see cref="AppendTakeOfManyEvents"/> for a batch over several events); the day rollups count what was written
    /// (<see cref="BookingRollup.RecordBookedSql"/>); the keys' records; then the bookings written, with their event's name.
    /// </summary>
    internal static MySqlCommand Command(MySqlConnection connection, IReadOnlyList<Ticket> tickets, DateTime now)
    {
        var command = new MySqlCommand { Connection = connection };
        var byEvent = tickets.Select((t, i) => (Ticket: t, Index: i)).GroupBy(t => t.Ticket.EventId).OrderBy(g => g.Key).ToList();
        for (var e = 0; e < byEvent.Count; e++)
        {
            command.Parameters.AddWithValue($"@e{e}", byEvent[e].Key);
            command.Parameters.AddWithValue($"@t{e}", byEvent[e].Sum(t => t.Ticket.Quantity));
            command.Parameters.AddWithValue($"@c{e}", byEvent[e].Count());
        }
        for (var i = 0; i < tickets.Count; i++)
        {
            command.Parameters.AddWithValue($"@u{i}", tickets[i].UserId);
            command.Parameters.AddWithValue($"@q{i}", tickets[i].Quantity);
            command.Parameters.AddWithValue($"@a{i}", tickets[i].AttemptId);
        }
        var sql = new StringBuilder("START TRANSACTION;\n");
        if (byEvent.Count == 1)
        {
            AppendTakeOfOneEvent(sql, byEvent[0].Select(t => t.Index));
        }
        else
        {
            AppendTakeOfManyEvents(sql, byEvent.Select(g => g.Select(t => t.Index).ToList()).ToList());
        }
        var attempts = string.Join(", ", tickets.Select((_, i) => $"@a{i}"));
        sql.Append(BookingRollup.RecordBookedSql.Replace("@attempts", attempts)).Append('\n');
        // The keys' records, in the same transaction: a key already recorded fails the batch, which then writes nothing.
        var keyed = tickets.Select((t, i) => (Ticket: t, Index: i)).Where(t => t.Ticket.IdempotencyKey is not null).ToList();
        if (keyed.Count > 0)
        {
            sql.Append(IdempotencyLedger.InsertColumns).Append('\n');
            foreach (var (ticket, i) in keyed)
            {
                sql.Append(i == keyed[0].Index ? "  " : "  UNION ALL ")
                    .Append($"SELECT UserId, @k{i}, @f{i}, 'Booking', Id, @now FROM bookings WHERE AttemptId = @a{i}\n");
                command.Parameters.AddWithValue($"@k{i}", ticket.IdempotencyKey);
                command.Parameters.AddWithValue($"@f{i}", ticket.Fingerprint);
            }
            sql.Append(";\n");
        }
        sql.Append("SELECT b.Id, b.AttemptId, e.Name FROM bookings b JOIN events e ON e.Id = b.EventId WHERE b.AttemptId IN (")
            .Append(attempts)
            .Append(");\nCOMMIT;");
        command.CommandText = sql.ToString();
        command.Parameters.AddWithValue("@now", now);
        return command;
    }

    /// <summary>
    /// One event's tickets: the conditional write of <see cref="Capacity.TakeForDirectBookingsSql"/> for all of them
    /// (event <c>@e0</c>, <c>@t0</c> tickets, <c>@c0</c> bookings), then the INSERT of its bookings, written only if it took them.
    /// </summary>
    private static void AppendTakeOfOneEvent(StringBuilder sql, IEnumerable<int> bookings)
    {
        sql.Append(Capacity.TakeForDirectBookingsSql.Replace("@eventId", "@e0").Replace("@tickets", "@t0").Replace("@count", "@c0"))
            .Append(" AND NOT HasSeating;\n")
            .Append("INSERT INTO bookings (EventId, UserId, Quantity, Status, CreatedAt, AttemptId)\n")
            .AppendJoin("  UNION ALL ", bookings.Select(i => $"SELECT @e0, @u{i}, @q{i}, 'Confirmed', @now, @a{i} FROM DUAL WHERE ROW_COUNT() > 0\n"))
            .Append(";\n");
    }

    /// <summary>
    /// Several events' tickets, in as many statements as one event's (one per event was most of a batch's cost to the
    /// database): the events' rows locked in ascending id, as every writer locks them; one INSERT of the bookings of
    /// every event that can take all of them (<see cref="Capacity.CanTakeSql"/> for their sum, checked under the lock);
    /// then the counters of the events whose bookings were written. Event <c>e</c> is <c>@e{e}</c>, with <c>@t{e}</c>
    /// tickets for <c>@c{e}</c> bookings.
    /// </summary>
    private static void AppendTakeOfManyEvents(StringBuilder sql, IReadOnlyList<List<int>> bookingsByEvent)
    {
        var events = Enumerable.Range(0, bookingsByEvent.Count).ToList();
        sql.Append($"SELECT Id FROM events WHERE Id IN ({string.Join(", ", events.Select(e => $"@e{e}"))}) ORDER BY Id FOR UPDATE;\n")
            .Append("INSERT INTO bookings (EventId, UserId, Quantity, Status, CreatedAt, AttemptId)\n")
            .Append("  SELECT b.EventId, b.UserId, b.Quantity, 'Confirmed', @now, b.AttemptId FROM (\n    ")
            // Each booking carries its event's tickets in all: an event takes all of its bookings or none.
            .AppendJoin("    UNION ALL ", events.SelectMany(e => bookingsByEvent[e].Select(i =>
                $"SELECT @e{e} AS EventId, @u{i} AS UserId, @q{i} AS Quantity, @a{i} AS AttemptId, @t{e} AS Tickets\n")))
            .Append("  ) AS b JOIN events ON events.Id = b.EventId\n")
            .Append($"  WHERE {Capacity.OpenSql} AND {Capacity.CanTakeSql.Replace("@tickets", "b.Tickets")} AND {Capacity.DirectSql} AND NOT HasSeating;\n")
            // An event took its tickets if its first booking was written.
            .Append("UPDATE events JOIN (\n    ")
            .AppendJoin("    UNION ALL ", events.Select(e =>
                $"SELECT @e{e} AS Id, @t{e} AS Tickets, @c{e} AS Made, @a{bookingsByEvent[e][0]} AS AttemptId\n"))
            .Append("  ) AS taken ON taken.Id = events.Id\n")
            .Append("  SET Booked = Booked + taken.Tickets, BookingsMade = BookingsMade + taken.Made, Version = Version + 1\n")
            .Append("  WHERE EXISTS (SELECT 1 FROM bookings WHERE bookings.AttemptId = taken.AttemptId);\n");
    }

    /// <summary>Runs <see cref="Command"/>, not cancellable once sent, and reads the bookings it wrote.</summary>
    internal static async Task<List<Booking>> ReadWrittenAsync(MySqlCommand command, IReadOnlyList<Ticket> tickets, DateTime now)
    {
        var byAttempt = tickets.ToDictionary(t => t.AttemptId);
        var written = new List<Booking>();
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        do
        {
            // The rows locked come first; then the bookings written, with their event's name.
            while (reader.FieldCount == 3 && await reader.ReadAsync(CancellationToken.None))
            {
                var ticket = byAttempt[reader.GetGuid(1)];
                written.Add(new Booking
                {
                    Id = reader.GetInt64(0), EventId = ticket.EventId, UserId = ticket.UserId, Quantity = ticket.Quantity, CreatedAt = now,
                    AttemptId = ticket.AttemptId,
                    // Only its name is answered with the booking.
                    Event = new Event { Id = ticket.EventId, Name = reader.GetString(2), Venue = "" }
                });
            }
        }
        while (await reader.NextResultAsync(CancellationToken.None));
        return written;
    }

    internal static async Task RollBackQuietlyAsync(MySqlConnection connection)
    {
        if (connection.State != ConnectionState.Open)
        {
            // The connection is gone, and the server rolls back whatever it had not committed.
            return;
        }
        try
        {
            await using var rollback = new MySqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (MySqlException)
        {
            // The connection is gone, and the server rolls back with it.
        }
    }

    private sealed class Waiting(Ticket ticket, DateTime now)
    {
        public Ticket Ticket { get; } = ticket;
        public DateTime Now { get; } = now;
        public TaskCompletionSource<Booking?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile bool GaveUp;
    }
}
