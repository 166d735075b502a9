using System.Globalization;
using Evently.Domain.Events;
using MySqlConnector;

namespace Evently.LoadTest;

/// <summary>
/// What the database itself does with the direct path's statements, measured in the same run as the app: one booking
/// per transaction, straight through MySqlConnector to the app's MariaDB (no HTTP, no app), each client on a connection
/// of its own, as one batch (START TRANSACTION; the conditional UPDATE of <see cref="Capacity.TakeForDirectBookingsSql"/>
/// for one ticket; the INSERT of the booking if it took it; COMMIT) — one round trip, the cheapest a client of
/// the database could book one ticket in. On one row, and spread over 1,000 rows of events made for it (copies of a
/// seeded event, so the app's events and the invariants over them are left alone).
/// </summary>
internal static class RawSqlScenario
{
    private const int SpreadRows = 1_000;

    private static readonly string BookOneSql = $"""
        START TRANSACTION;
        {Capacity.TakeForDirectBookingsSql};
        INSERT INTO bookings (EventId, UserId, Quantity, Status, CreatedAt, AttemptId)
          SELECT @eventId, @userId, 1, 'Confirmed', @now, @attempt FROM DUAL WHERE ROW_COUNT() > 0;
        SELECT ROW_COUNT();
        COMMIT;
        """;

    /// <summary>Both loads, as rows of the main table; prints the ratio of the app's matching rows to them.</summary>
    public static async Task<ScenarioResult[]> RunAsync(string connectionString, SeedData seed, LoadSettings settings, IReadOnlyList<ScenarioResult> app)
    {
        if (!settings.Direct)
        {
            return [];
        }
        var database = new MySqlConnectionStringBuilder(connectionString) { MaximumPoolSize = (uint)Math.Max(100, settings.Clients + 10) };
        var (rows, userId) = await CopyEventsAsync(database.ConnectionString, seed.Events[1].Id);
        var connections = await Task.WhenAll(Enumerable.Range(0, settings.Clients).Select(async _ =>
        {
            var connection = new MySqlConnection(database.ConnectionString);
            await connection.OpenAsync();
            return connection;
        }));
        try
        {
            Task<int> Book(int client, long eventId) => BookAsync(connections[client], eventId, userId);
            var results = new[]
            {
                await LoadRunner.RunAsync("Raw SQL, one row", 201, settings, client => Book(client, rows[0])),
                await LoadRunner.RunAsync($"Raw SQL, {SpreadRows:N0} rows", 201, settings,
                    client => Book(client, rows[1 + Random.Shared.Next(SpreadRows)]))
            };
            // The app's "Book, one event" and "Book, 1,000 events" are its second and third rows.
            Console.WriteLine($"Evently vs raw SQL, one booking per transaction: one event {Ratio(app[1], results[0])}, "
                + $"{SpreadRows:N0} events {Ratio(app[2], results[1])}");
            return results;
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<int> BookAsync(MySqlConnection connection, long eventId, long userId)
    {
        await using var command = new MySqlCommand(BookOneSql, connection);
        command.Parameters.AddWithValue("@eventId", eventId);
        command.Parameters.AddWithValue("@tickets", 1);
        command.Parameters.AddWithValue("@count", 1);
        command.Parameters.AddWithValue("@now", DateTime.UtcNow);
        command.Parameters.AddWithValue("@userId", userId);
        command.Parameters.AddWithValue("@attempt", Guid.NewGuid());
        try
        {
            return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture) > 0 ? 201 : 409;
        }
        catch (MySqlException)
        {
            return EventlyApi.NoResponse;
        }
    }

    // 1 + 1,000 copies of a seeded event, with room for any run; and a user to book for.
    private static async Task<(long[] Rows, long UserId)> CopyEventsAsync(string connectionString, long template)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var columnsQuery = new MySqlCommand(
            "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS " +
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events' AND COLUMN_NAME NOT IN ('Id', 'Name', 'Capacity')", connection);
        var columns = (string)(await columnsQuery.ExecuteScalarAsync())!;
        await using var copy = new MySqlCommand(
            $"INSERT INTO events (Name, Capacity, {columns}) SELECT CONCAT('Raw SQL row ', s.seq), 100000000, {columns} " +
            $"FROM events JOIN seq_0_to_{SpreadRows} s WHERE events.Id = @template ORDER BY s.seq; " +
            $"SELECT Id FROM events WHERE Name LIKE 'Raw SQL row %' ORDER BY Id; SELECT MIN(Id) FROM users;", connection);
        copy.Parameters.AddWithValue("@template", template);
        var rows = new List<long>();
        await using var reader = await copy.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetInt64(0));
        }
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return (rows.ToArray(), reader.GetInt64(0));
    }

    private static string Ratio(ScenarioResult evently, ScenarioResult raw) =>
        (evently.SuccessThroughput / raw.SuccessThroughput).ToString("0.00x", CultureInfo.InvariantCulture);
}
