using System.Globalization;
using System.Text;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Evently.Domain.Events;

/// <summary>
/// The seats of a layout written set-based, in the caller's transaction: one statement whose seat numbers the
/// database counts out itself, so that a layout of 100,000 seats costs the server's inserts and little else (through
/// EF Core, one row per statement, it took longer than a request's deadline).
/// </summary>
internal static class SeatRows
{
    public static async Task InsertAsync(EventlyDbContext db, long eventId, IReadOnlyList<SeatSection> sections, CancellationToken ct)
    {
        // Section names come from the client: parameters. Row names and counts are made here: literals.
        // In the layout's order (sections as given, rows, numbers), so seat ids follow it as a plan reads.
        var rows = sections.SelectMany((section, s) => Enumerable.Range(0, section.Rows)
            .Select(row => string.Create(CultureInfo.InvariantCulture,
                $"SELECT {s * 1_000 + row} AS ord, @s{s} AS section, '{SeatLayout.RowName(row)}' AS name, {section.SeatsPerRow} AS seats")));
        var sql = new StringBuilder("INSERT INTO seats (EventId, Section, `Row`, Number, Status)\n")
            .Append(CultureInfo.InvariantCulture, $"WITH RECURSIVE numbers (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < {sections.Max(s => s.SeatsPerRow)})\n")
            .Append("SELECT @event, layout.section, layout.name, numbers.n, 'Available'\nFROM (")
            .AppendJoin(" UNION ALL ", rows)
            .Append(") AS layout JOIN numbers ON numbers.n <= layout.seats ORDER BY layout.ord, numbers.n");
        var parameters = sections.Select((section, s) => new MySqlParameter($"@s{s}", section.Name)).Prepend(new MySqlParameter("@event", eventId));
        await db.Database.ExecuteSqlRawAsync(sql.ToString(), parameters, ct);
    }

    /// <summary>Whether the event's seats are exactly the layout's: compared per section, without reading every seat.</summary>
    public static async Task<bool> MatchAsync(EventlyDbContext db, long eventId, IReadOnlyList<SeatSection>? sections, CancellationToken ct)
    {
        var stored = await db.Seats.Where(s => s.EventId == eventId).GroupBy(s => s.Section)
            .Select(g => new { Section = g.Key, Seats = g.Count(), Rows = g.Select(s => s.Row).Distinct().Count(), PerRow = g.Max(s => s.Number) })
            .ToListAsync(ct);
        var wanted = sections ?? [];
        return stored.Count == wanted.Count && wanted.All(section => stored.Any(s => s.Section == section.Name
            && s.Rows == section.Rows && s.PerRow == section.SeatsPerRow && s.Seats == section.Rows * section.SeatsPerRow));
    }
}
