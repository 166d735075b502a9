using System.ComponentModel.DataAnnotations;

namespace Evently.MigrationService;

public sealed class SeedOptions
{
    public AdminOptions Admin { get; set; } = new();

    // Demo events for a first look at the app; only ever added to an empty events table.
    public bool SeedDemoData { get; set; } = true;
}

public sealed class AdminOptions
{
    [Required, EmailAddress]
    public string Email { get; set; } = "";

    [Required, MinLength(8)]
    public string Password { get; set; } = "";
}
