using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evently.Domain.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class QueuedRejectionsInAppOnly : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt",
                table: "notifications");

            migrationBuilder.AddColumn<bool>(
                name: "InAppOnly",
                table: "notifications",
                type: "tinyint(1)",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt_InAppOnly",
                table: "notifications",
                columns: new[] { "EmailedAt", "EmailFailedAt", "InAppOnly" });

            // Rejections not yet mailed are in-app only from now on, as every new one is.
            migrationBuilder.Sql("UPDATE notifications SET InAppOnly = TRUE WHERE Kind = 'booking-rejected' AND EmailedAt IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt_InAppOnly",
                table: "notifications");

            migrationBuilder.DropColumn(
                name: "InAppOnly",
                table: "notifications");

            migrationBuilder.CreateIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt",
                table: "notifications",
                columns: new[] { "EmailedAt", "EmailFailedAt" });
        }
    }
}
