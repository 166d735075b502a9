using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evently.Domain.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class ExactIdempotencyKeysAndAttemptTokens : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "IdempotencyKey",
                table: "bookings",
                type: "varchar(64)",
                maxLength: 64,
                nullable: true,
                collation: "utf8mb4_bin",
                oldClrType: typeof(string),
                oldType: "varchar(64)",
                oldMaxLength: 64,
                oldNullable: true)
                .Annotation("MySql:CharSet", "utf8mb4")
                .OldAnnotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddColumn<Guid>(
                name: "AttemptId",
                table: "bookings",
                type: "char(36)",
                nullable: true,
                collation: "ascii_general_ci");

            migrationBuilder.AddColumn<string>(
                name: "RequestFingerprint",
                table: "bookings",
                type: "varchar(300)",
                maxLength: 300,
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");

            // Keys already used remember what they were used for, as BookingRules.Fingerprint writes it
            // (a booking whose seats were changed since records its current seats: the best that is known).
            migrationBuilder.Sql("""
                UPDATE bookings b SET RequestFingerprint = CONCAT('event:', b.EventId, ';tickets:', b.Quantity, ';seats:',
                  IFNULL((SELECT GROUP_CONCAT(s.SeatId ORDER BY s.SeatId SEPARATOR ',') FROM booking_seats s WHERE s.BookingId = b.Id), ''))
                WHERE b.IdempotencyKey IS NOT NULL;
                """);

            migrationBuilder.AlterColumn<string>(
                name: "IdempotencyKey",
                table: "booking_requests",
                type: "varchar(64)",
                maxLength: 64,
                nullable: true,
                collation: "utf8mb4_bin",
                oldClrType: typeof(string),
                oldType: "varchar(64)",
                oldMaxLength: 64,
                oldNullable: true)
                .Annotation("MySql:CharSet", "utf8mb4")
                .OldAnnotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateIndex(
                name: "IX_bookings_AttemptId",
                table: "bookings",
                column: "AttemptId",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_bookings_AttemptId",
                table: "bookings");

            migrationBuilder.DropColumn(
                name: "AttemptId",
                table: "bookings");

            migrationBuilder.DropColumn(
                name: "RequestFingerprint",
                table: "bookings");

            migrationBuilder.AlterColumn<string>(
                name: "IdempotencyKey",
                table: "bookings",
                type: "varchar(64)",
                maxLength: 64,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "varchar(64)",
                oldMaxLength: 64,
                oldNullable: true,
                oldCollation: "utf8mb4_bin")
                .Annotation("MySql:CharSet", "utf8mb4")
                .OldAnnotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AlterColumn<string>(
                name: "IdempotencyKey",
                table: "booking_requests",
                type: "varchar(64)",
                maxLength: 64,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "varchar(64)",
                oldMaxLength: 64,
                oldNullable: true,
                oldCollation: "utf8mb4_bin")
                .Annotation("MySql:CharSet", "utf8mb4")
                .OldAnnotation("MySql:CharSet", "utf8mb4");
        }
    }
}
