using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evently.Domain.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class OneIdempotencyLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "idempotency_records",
                columns: table => new
                {
                    UserId = table.Column<long>(type: "bigint", nullable: false),
                    IdempotencyKey = table.Column<string>(type: "varchar(64)", maxLength: 64, nullable: false, collation: "utf8mb4_bin")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    Fingerprint = table.Column<string>(type: "varchar(300)", maxLength: 300, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    Outcome = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    OutcomeId = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "datetime(6)", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_idempotency_records", x => new { x.UserId, x.IdempotencyKey });
                    table.ForeignKey(
                        name: "FK_idempotency_records_users_UserId",
                        column: x => x.UserId,
                        principalTable: "users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            // The keys bookings and queued requests recorded before, in the one ledger. A queued request's fingerprint
            // is rebuilt as BookingRules.Fingerprint makes it (its seats as the client listed them: sorted, for a
            // client that sent them sorted); a key both tables hold keeps the booking.
            migrationBuilder.Sql("""
                INSERT INTO idempotency_records (UserId, IdempotencyKey, Fingerprint, Outcome, OutcomeId, CreatedAt)
                  SELECT UserId, IdempotencyKey, COALESCE(RequestFingerprint, CONCAT('event:', EventId, ';tickets:', Quantity, ';seats:')),
                         'Booking', Id, CreatedAt
                  FROM bookings WHERE IdempotencyKey IS NOT NULL;
                INSERT IGNORE INTO idempotency_records (UserId, IdempotencyKey, Fingerprint, Outcome, OutcomeId, CreatedAt)
                  SELECT UserId, IdempotencyKey, CONCAT('event:', EventId, ';tickets:', Quantity, ';seats:', COALESCE(SeatIds, '')),
                         'BookingRequest', Id, CreatedAt
                  FROM booking_requests WHERE IdempotencyKey IS NOT NULL;
                """);

            // The foreign key on UserId needs an index of its own before the unique one that served it goes.
            migrationBuilder.CreateIndex(
                name: "IX_booking_requests_UserId",
                table: "booking_requests",
                column: "UserId");

            migrationBuilder.DropIndex(
                name: "IX_bookings_UserId_IdempotencyKey",
                table: "bookings");

            migrationBuilder.DropIndex(
                name: "IX_booking_requests_UserId_IdempotencyKey",
                table: "booking_requests");

            migrationBuilder.DropColumn(
                name: "IdempotencyKey",
                table: "bookings");

            migrationBuilder.DropColumn(
                name: "RequestFingerprint",
                table: "bookings");

            migrationBuilder.DropColumn(
                name: "IdempotencyKey",
                table: "booking_requests");

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "idempotency_records");

            migrationBuilder.AddColumn<string>(
                name: "IdempotencyKey",
                table: "bookings",
                type: "varchar(64)",
                maxLength: 64,
                nullable: true,
                collation: "utf8mb4_bin")
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddColumn<string>(
                name: "RequestFingerprint",
                table: "bookings",
                type: "varchar(300)",
                maxLength: 300,
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddColumn<string>(
                name: "IdempotencyKey",
                table: "booking_requests",
                type: "varchar(64)",
                maxLength: 64,
                nullable: true,
                collation: "utf8mb4_bin")
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateIndex(
                name: "IX_bookings_UserId_IdempotencyKey",
                table: "bookings",
                columns: new[] { "UserId", "IdempotencyKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_booking_requests_UserId_IdempotencyKey",
                table: "booking_requests",
                columns: new[] { "UserId", "IdempotencyKey" },
                unique: true);

            migrationBuilder.DropIndex(
                name: "IX_booking_requests_UserId",
                table: "booking_requests");
        }
    }
}
