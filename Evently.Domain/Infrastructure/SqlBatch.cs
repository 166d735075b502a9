using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace Evently.Domain.Infrastructure;

/// <summary>
/// Statements sent as one batch (one round trip) in the context's open transaction, whose connection it uses; each value
/// a positional parameter (<c>?</c>). For writes whose every value is known before the first is sent: a chain of EF Core
/// <c>ExecuteUpdate</c>s would be a round trip each, under the caller's locks.
/// </summary>
internal sealed class SqlBatch
{
    private const int RowsPerInsert = 500;
    private readonly MySqlBatch _batch = new();

    /// <summary><c>?, ?, ?</c>: one placeholder per value of an <c>IN (...)</c> list.</summary>
    public static string Placeholders(int count) => string.Join(", ", Enumerable.Repeat("?", count));

    public SqlBatch Add(string sql, params IEnumerable<object?> values)
    {
        var statement = new MySqlBatchCommand(sql);
        foreach (var value in values)
        {
            statement.Parameters.Add(new MySqlParameter { Value = value ?? DBNull.Value });
        }
        _batch.BatchCommands.Add(statement);
        return this;
    }

    /// <summary>
    /// Multi-row inserts, at most <see cref="RowsPerInsert"/> rows a statement. One statement of a thousand rows with named
    /// parameters put its text, its parameters' names and their index on the large-object heap, which only a full
    /// collection frees (the worker held 16 MB of such free space after an on-sale).
    /// </summary>
    /// <param name="rows">At least one, all with a value for each column.</param>
    public SqlBatch AddInsert(string insertInto, IEnumerable<object?[]> rows)
    {
        foreach (var chunk in rows.Chunk(RowsPerInsert))
        {
            var row = $"({Placeholders(chunk[0].Length)})";
            var sql = new StringBuilder(insertInto).Append(" VALUES ").Append(row);
            for (var r = 1; r < chunk.Length; r++)
            {
                sql.Append(',').Append(row);
            }
            Add(sql.ToString(), chunk.SelectMany(row => row));
        }
        return this;
    }

    public async Task ExecuteAsync(EventlyDbContext db, CancellationToken ct)
    {
        await using var batch = _batch;
        batch.Connection = (MySqlConnection)db.Database.GetDbConnection();
        batch.Transaction = (MySqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction();
        await batch.ExecuteNonQueryAsync(ct);
    }
}
