using System.Collections.Concurrent;
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
/// Group commit for direct bookings of tickets (no seats): the bookings of one event that arrive while a
/// batch of it is being written wait for the next batch, and each batch is one transaction in one round
/// trip: one conditional update of the event row for all its tickets, one multi-row insert of its bookings.
/// An idle event's booking is a batch of one, so nobody waits for a batch to fill; a busy event's bookers
/// share the row lock, the commit and the round trip.
/// </summary>
/// <remarks>
/// Only what all of a batch can have is written, all or nothing. A batch that cannot be written whole
/// (too few tickets left for all of it, the event closed, an Idempotency-Key already recorded, a database error)
/// writes nothing, and each of its bookings is then tried alone by <see cref="BookTickets"/>, which has the
/// exact refusals and the retries. Batches run on their own connection, apart from any request, so a caller
/// that gives up waiting (its deadline) does not cut the others' batch short.
/// </remarks>
public sealed class TicketBatches(IServiceScopeFactory scopes, BookingMetrics metrics, ILogger<TicketBatches> logger)
{
    public const int MaxBatch = 100;

    private readonly ConcurrentDictionary<long, Lane> lanes = new();

    /// <summary>A booking of tickets to be written with others of its event; a key's record is written with it.</summary>
    public sealed record Ticket(long UserId, int Quantity, string? IdempotencyKey, string Fingerprint, Guid AttemptId);

    /// <summary>
    /// Writes the booking in the event's next batch. Null when the batch could not be written whole: then
    /// nothing of it was, and the caller books alone.
    /// </summary>
    public async Task<Booking?> BookAsync(long eventId, Ticket ticket, DateTime now, CancellationToken cancellationToken)
    {
        var waiting = new Waiting(ticket, now);
        while (true)
        {
            var lane = lanes.GetOrAdd(eventId, id => new Lane(id));
            lock (lane)
            {
                if (lane.Retired)
                {
                    continue;
                }
                lane.Queue.Enqueue(waiting);
                if (!lane.Draining)
                {
                    lane.Draining = true;
                    _ = Task.Run(() => DrainAsync(lane));
                }
                break;
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

    private async Task DrainAsync(Lane lane)
    {
        while (true)
        {
            var batch = new List<Waiting>();
            lock (lane)
            {
                while (batch.Count < MaxBatch && lane.Queue.TryDequeue(out var next))
                {
                    if (!next.GaveUp)
                    {
                        batch.Add(next);
                    }
                }
                if (batch.Count == 0)
                {
                    // Idle: the lane goes, and a booking that finds it retired makes a new one.
                    lane.Draining = false;
                    lane.Retired = true;
                    lanes.TryRemove(new KeyValuePair<long, Lane>(lane.EventId, lane));
                    return;
                }
            }

            try
            {
                var written = await WriteAsync(lane.EventId, batch);
                metrics.Batched(batch.Count, written is not null);
                foreach (var waiting in batch)
                {
                    waiting.Answer.TrySetResult(written?.GetValueOrDefault(waiting.Ticket.AttemptId));
                }
            }
            catch (Exception ex)
            {
                // Nothing the batch's callers could not do alone: they book alone and meet the error themselves.
                logger.LogDebug(ex, "A batch of {Count} bookings of event {EventId} failed; each is booked alone", batch.Count, lane.EventId);
                metrics.Batched(batch.Count, false);
                foreach (var waiting in batch)
                {
                    waiting.Answer.TrySetResult(null);
                }
            }
        }
    }

    // The whole batch or nothing, in one round trip; null when nothing was written.
    private async Task<Dictionary<Guid, Booking>?> WriteAsync(long eventId, List<Waiting> batch)
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
            await using var command = Command(connection, eventId, tickets, now);
            var written = await ReadWrittenAsync(command, eventId, tickets, now);
            return written.Count == batch.Count ? written.ToDictionary(b => b.AttemptId!.Value) : null;
        }
        catch (MySqlException)
        {
            // Rolled back (the server does, with a lost connection), unless the COMMIT had run: the tokens tell.
            await RollBackQuietlyAsync(connection);
            var attempts = tickets.Select(t => (Guid?)t.AttemptId).ToList();
            var made = await db.Bookings.AsNoTracking().Include(b => b.Event)
                .Where(b => attempts.Contains(b.AttemptId))
                .ToDictionaryAsync(b => b.AttemptId!.Value, CancellationToken.None);
            return made.Count == batch.Count ? made : null;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// The batch, as one transaction: the conditional write of <see cref="Capacity.TakeForDirectBookingsSql"/> for the sum
    /// of its tickets; each row of the INSERT is written only if the UPDATE took them; the day's rollup counts what
    /// the INSERT wrote; the keys' records; then the bookings written, with their event's name.
    /// </summary>
    internal static MySqlCommand Command(MySqlConnection connection, long eventId, IReadOnlyList<Ticket> tickets, DateTime now)
    {
        var command = new MySqlCommand { Connection = connection };
        var sql = new StringBuilder("START TRANSACTION;\n")
            .Append(Capacity.TakeForDirectBookingsSql).Append(" AND NOT HasSeating;\n")
            .Append("INSERT INTO bookings (EventId, UserId, Quantity, Status, CreatedAt, AttemptId)\n");
        for (var i = 0; i < tickets.Count; i++)
        {
            var ticket = tickets[i];
            sql.Append(i == 0 ? "  " : "  UNION ALL ")
                .Append($"SELECT @eventId, @u{i}, @q{i}, 'Confirmed', @now, @a{i} FROM DUAL WHERE ROW_COUNT() > 0\n");
            command.Parameters.AddWithValue($"@u{i}", ticket.UserId);
            command.Parameters.AddWithValue($"@q{i}", ticket.Quantity);
            command.Parameters.AddWithValue($"@a{i}", ticket.AttemptId);
        }
        sql.Append(";\n").Append(BookingRollup.RecordBookedIfInsertedSql).Append('\n');
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
            .AppendJoin(", ", tickets.Select((_, i) => $"@a{i}"))
            .Append(");\nCOMMIT;");
        command.CommandText = sql.ToString();
        command.Parameters.AddWithValue("@eventId", eventId);
        command.Parameters.AddWithValue("@tickets", tickets.Sum(t => t.Quantity));
        command.Parameters.AddWithValue("@count", tickets.Count);
        command.Parameters.AddWithValue("@now", now);
        return command;
    }

    /// <summary>Runs <see cref="Command"/>, not cancellable once sent, and reads the bookings it wrote: all of them, or none.</summary>
    internal static async Task<List<Booking>> ReadWrittenAsync(MySqlCommand command, long eventId, IReadOnlyList<Ticket> tickets, DateTime now)
    {
        var byAttempt = tickets.ToDictionary(t => t.AttemptId);
        var written = new List<Booking>();
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        do
        {
            while (await reader.ReadAsync(CancellationToken.None))
            {
                var ticket = byAttempt[reader.GetGuid(1)];
                written.Add(new Booking
                {
                    Id = reader.GetInt64(0), EventId = eventId, UserId = ticket.UserId, Quantity = ticket.Quantity, CreatedAt = now,
                    AttemptId = ticket.AttemptId,
                    // Only its name is answered with the booking.
                    Event = new Event { Id = eventId, Name = reader.GetString(2), Venue = "" }
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

    private sealed class Lane(long eventId)
    {
        public long EventId { get; } = eventId;
        public Queue<Waiting> Queue { get; } = new();
        public bool Draining { get; set; }
        public bool Retired { get; set; }
    }

    private sealed class Waiting(Ticket ticket, DateTime now)
    {
        public Ticket Ticket { get; } = ticket;
        public DateTime Now { get; } = now;
        public TaskCompletionSource<Booking?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile bool GaveUp;
    }
}
