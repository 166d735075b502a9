using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evently.Domain.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class EventSalesStartAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "SalesStartAt",
                table: "events",
                type: "datetime(6)",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SalesStartAt",
                table: "events");
        }
    }
}
