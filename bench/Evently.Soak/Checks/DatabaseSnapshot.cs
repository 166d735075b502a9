using MySqlConnector;

namespace Evently.Soak.Checks;

internal sealed record EventRow(long Id, string Name, int Capacity, int Booked, int Held, string Status, bool HasSeating);
internal sealed record BookingRow(long Id, long EventId, long UserId, int Quantity, string Status, string? Key);
internal sealed record BookingSeatRow(long BookingId, long SeatId, bool Active);
internal sealed record SeatRow(long Id, long EventId, string Status);
internal sealed record RequestRow(long Id, long EventId, long UserId, int Quantity, string Status, long? BookingId, string? Reason, string? Key);
internal sealed record EntryRow(long Id, long EventId, long UserId, int Quantity, string Status, string? HeldSeatIds, long? BookingId);
internal sealed record NotificationRow(long Id, long UserId, string Kind, long? EventId, DateTime? EmailedAt, DateTime? FailedAt, DateTime? NextAttemptAt);

/// <summary>
/// Every row the invariants look at, read once after the system has settled (the soak's database holds only
/// the soak's data). A booking's or request's key is the one the idempotency ledger records it made. Plain SQL
/// against today's schema: when the schema changes, this file and
/// <see cref="Invariants"/> are the places to change.
/// </summary>
internal sealed class DatabaseSnapshot
{
    public List<EventRow> Events { get; } = [];
    public List<BookingRow> Bookings { get; } = [];
    public List<BookingSeatRow> BookingSeats { get; } = [];
    public List<SeatRow> Seats { get; } = [];
    public List<RequestRow> Requests { get; } = [];
    public List<EntryRow> Entries { get; } = [];
    public List<NotificationRow> Notifications { get; } = [];
    public Dictionary<long, string> UserEmails { get; } = [];
    public long UnrelayedOutbox { get; private set; }
    public DateTime ReadAt { get; private set; }

    public static async Task<DatabaseSnapshot> ReadAsync(string connectionString)
    {
        var snapshot = new DatabaseSnapshot { ReadAt = DateTime.UtcNow };
        await using var db = new MySqlConnection(connectionString);
        await db.OpenAsync();
        await ReadAsync(db, "SELECT Id, Name, Capacity, Booked, Held, Status, HasSeating FROM events", r => snapshot.Events.Add(
            new EventRow(r.GetInt64(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4), r.GetString(5), r.GetBoolean(6))));
        await ReadAsync(db, """
            SELECT b.Id, b.EventId, b.UserId, b.Quantity, b.Status, k.IdempotencyKey FROM bookings b
            LEFT JOIN idempotency_records k ON k.UserId = b.UserId AND k.Outcome = 'Booking' AND k.OutcomeId = b.Id
            """, r => snapshot.Bookings.Add(
            new BookingRow(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt32(3), r.GetString(4), Text(r, 5))));
        await ReadAsync(db, "SELECT BookingId, SeatId, Active FROM booking_seats", r => snapshot.BookingSeats.Add(
            new BookingSeatRow(r.GetInt64(0), r.GetInt64(1), !r.IsDBNull(2) && r.GetBoolean(2))));
        await ReadAsync(db, "SELECT Id, EventId, Status FROM seats", r => snapshot.Seats.Add(
            new SeatRow(r.GetInt64(0), r.GetInt64(1), r.GetString(2))));
        await ReadAsync(db, """
            SELECT r.Id, r.EventId, r.UserId, r.Quantity, r.Status, r.BookingId, r.Reason, k.IdempotencyKey FROM booking_requests r
            LEFT JOIN idempotency_records k ON k.UserId = r.UserId AND k.Outcome = 'BookingRequest' AND k.OutcomeId = r.Id
            """,
            r => snapshot.Requests.Add(new RequestRow(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt32(3), r.GetString(4),
                r.IsDBNull(5) ? null : r.GetInt64(5), Text(r, 6), Text(r, 7))));
        await ReadAsync(db, "SELECT Id, EventId, UserId, Quantity, Status, HeldSeatIds, BookingId FROM waitlist_entries", r => snapshot.Entries.Add(
            new EntryRow(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt32(3), r.GetString(4), Text(r, 5), r.IsDBNull(6) ? null : r.GetInt64(6))));
        await ReadAsync(db, "SELECT Id, UserId, Kind, EventId, EmailedAt, EmailFailedAt, NextEmailAttemptAt FROM notifications",
            r => snapshot.Notifications.Add(new NotificationRow(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt64(3),
                Time(r, 4), Time(r, 5), Time(r, 6))));
        await ReadAsync(db, "SELECT Id, Email FROM users", r => snapshot.UserEmails[r.GetInt64(0)] = r.GetString(1));
        await using var outbox = new MySqlCommand("SELECT COUNT(*) FROM outbox_messages WHERE ProcessedAt IS NULL", db);
        snapshot.UnrelayedOutbox = Convert.ToInt64(await outbox.ExecuteScalarAsync());
        return snapshot;
    }

    private static async Task ReadAsync(MySqlConnection db, string sql, Action<MySqlDataReader> row)
    {
        await using var command = new MySqlCommand(sql, db);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            row(reader);
        }
    }

    private static string? Text(MySqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);

    private static DateTime? Time(MySqlDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : DateTime.SpecifyKind(reader.GetDateTime(column), DateTimeKind.Utc);

    public static bool Is(string status, string expected) => string.Equals(status, expected, StringComparison.OrdinalIgnoreCase);
}
