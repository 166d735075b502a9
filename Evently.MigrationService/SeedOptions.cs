using System.ComponentModel.DataAnnotations;
using Evently.Domain.Auth;
using Microsoft.Extensions.Options;

namespace Evently.MigrationService;

public sealed class SeedOptions
{
    public const string Section = "Evently";

    [Required, ValidateObjectMembers]
    public AdminOptions Admin { get; set; } = new();

    // Demo events for a first look at the app; only ever added to an empty events table.
    public bool SeedDemoData { get; set; } = true;
}

// The admin the migration service keeps in line with configuration. The messages name the setting, and
// the AppHost parameter that feeds it, because they are all an operator sees of a failed deployment.
public sealed class AdminOptions
{
    public const int MinimumPasswordLength = 12;

    [Required(ErrorMessage = "Evently:Admin:Email (AppHost parameter admin-email) is required."),
     AdminEmail(ErrorMessage = "Evently:Admin:Email (AppHost parameter admin-email) must be an e-mail address, like admin@example.com.")]
    public string Email { get; set; } = "";

    [Required(ErrorMessage = "Evently:Admin:Password (AppHost parameter admin-password) is required."),
     MinLength(MinimumPasswordLength, ErrorMessage = "Evently:Admin:Password (AppHost parameter admin-password) must be at least 12 characters long.")]
    public string Password { get; set; } = "";
}

// The rule registration applies, so that the admin's e-mail is one the app could have taken from a user.
[AttributeUsage(AttributeTargets.Property)]
public sealed class AdminEmailAttribute : ValidationAttribute
{
    public override bool IsValid(object? value) => value is null || User.IsValidEmail(value as string);
}
