using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evently.Domain.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class WaitlistOffersAndMail : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_notifications_EmailedAt",
                table: "notifications");

            migrationBuilder.AddColumn<bool>(
                name: "Active",
                table: "waitlist_entries",
                type: "tinyint(1)",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "BookingId",
                table: "waitlist_entries",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "HeldSeatIds",
                table: "waitlist_entries",
                type: "varchar(300)",
                maxLength: 300,
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddColumn<string>(
                name: "TraceParent",
                table: "outbox_messages",
                type: "varchar(64)",
                maxLength: 64,
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddColumn<int>(
                name: "EmailAttempts",
                table: "notifications",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "EmailFailedAt",
                table: "notifications",
                type: "datetime(6)",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "NextEmailAttemptAt",
                table: "notifications",
                type: "datetime(6)",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TraceParent",
                table: "notifications",
                type: "varchar(64)",
                maxLength: 64,
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateIndex(
                name: "IX_waitlist_entries_UserId_EventId_Active",
                table: "waitlist_entries",
                columns: new[] { "UserId", "EventId", "Active" },
                unique: true);

            // Dropped only now: the user foreign key needs an index that starts with UserId at all times.
            migrationBuilder.DropIndex(
                name: "IX_waitlist_entries_UserId_EventId",
                table: "waitlist_entries");

            migrationBuilder.Sql("UPDATE waitlist_entries SET Active = TRUE WHERE Status IN ('Waiting', 'Offered');");

            migrationBuilder.CreateIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt_NextEmailAttemptAt",
                table: "notifications",
                columns: new[] { "EmailedAt", "EmailFailedAt", "NextEmailAttemptAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_waitlist_entries_UserId_EventId_Active",
                table: "waitlist_entries");

            migrationBuilder.DropIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt_NextEmailAttemptAt",
                table: "notifications");

            migrationBuilder.DropColumn(
                name: "Active",
                table: "waitlist_entries");

            migrationBuilder.DropColumn(
                name: "BookingId",
                table: "waitlist_entries");

            migrationBuilder.DropColumn(
                name: "HeldSeatIds",
                table: "waitlist_entries");

            migrationBuilder.DropColumn(
                name: "TraceParent",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "EmailAttempts",
                table: "notifications");

            migrationBuilder.DropColumn(
                name: "EmailFailedAt",
                table: "notifications");

            migrationBuilder.DropColumn(
                name: "NextEmailAttemptAt",
                table: "notifications");

            migrationBuilder.DropColumn(
                name: "TraceParent",
                table: "notifications");

            migrationBuilder.CreateIndex(
                name: "IX_waitlist_entries_UserId_EventId",
                table: "waitlist_entries",
                columns: new[] { "UserId", "EventId" });

            migrationBuilder.CreateIndex(
                name: "IX_notifications_EmailedAt",
                table: "notifications",
                column: "EmailedAt");
        }
    }
}
