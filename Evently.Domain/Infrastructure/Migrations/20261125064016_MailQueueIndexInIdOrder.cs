using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evently.Domain.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class MailQueueIndexInIdOrder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt_NextEmailAttemptAt",
                table: "notifications");

            migrationBuilder.CreateIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt",
                table: "notifications",
                columns: new[] { "EmailedAt", "EmailFailedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt",
                table: "notifications");

            migrationBuilder.CreateIndex(
                name: "IX_notifications_EmailedAt_EmailFailedAt_NextEmailAttemptAt",
                table: "notifications",
                columns: new[] { "EmailedAt", "EmailFailedAt", "NextEmailAttemptAt" });
        }
    }
}
