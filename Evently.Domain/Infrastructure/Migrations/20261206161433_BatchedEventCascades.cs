using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evently.Domain.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class BatchedEventCascades : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The new index first: the foreign key on EventId needs one at every moment.
            migrationBuilder.CreateIndex(
                name: "IX_bookings_EventId_Status_UserId",
                table: "bookings",
                columns: new[] { "EventId", "Status", "UserId" });

            migrationBuilder.DropIndex(
                name: "IX_bookings_EventId_Status",
                table: "bookings");

            migrationBuilder.AddColumn<long>(
                name: "Cursor",
                table: "outbox_messages",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Message",
                table: "outbox_messages",
                type: "varchar(1000)",
                maxLength: 1000,
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_bookings_EventId_Status",
                table: "bookings",
                columns: new[] { "EventId", "Status" });

            migrationBuilder.DropIndex(
                name: "IX_bookings_EventId_Status_UserId",
                table: "bookings");

            migrationBuilder.DropColumn(
                name: "Cursor",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "Message",
                table: "outbox_messages");
        }
    }
}
