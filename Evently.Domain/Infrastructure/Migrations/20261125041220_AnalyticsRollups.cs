using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evently.Domain.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class AnalyticsRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "BookingsCancelled",
                table: "events",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "BookingsMade",
                table: "events",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "analytics_days",
                columns: table => new
                {
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    Shard = table.Column<int>(type: "int", nullable: false),
                    Bookings = table.Column<int>(type: "int", nullable: false),
                    Cancellations = table.Column<int>(type: "int", nullable: false),
                    BookingsCancelled = table.Column<int>(type: "int", nullable: false),
                    TicketsSold = table.Column<int>(type: "int", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_analytics_days", x => new { x.Day, x.Shard });
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            // The bookings made before this version, counted as the services count them from now on (a copy of
            // BookingRollup.RebuildSql as it is at this migration, which must not change with later versions).
            migrationBuilder.Sql("""
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
                  JOIN (SELECT EventId, COUNT(*) AS Made, SUM(Status = 'Cancelled') AS Cancelled FROM bookings GROUP BY EventId) b
                    ON b.EventId = e.Id
                  SET e.BookingsMade = b.Made, e.BookingsCancelled = b.Cancelled;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "analytics_days");

            migrationBuilder.DropColumn(
                name: "BookingsCancelled",
                table: "events");

            migrationBuilder.DropColumn(
                name: "BookingsMade",
                table: "events");
        }
    }
}
