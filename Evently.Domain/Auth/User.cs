using System.Net.Mail;

namespace Evently.Domain.Auth;

public sealed class User
{
    public long Id { get; set; }
    public required string Email { get; set; }

    // Upper-cased e-mail with a unique index: uniqueness that does not depend on the column collation.
    public required string NormalizedEmail { get; set; }
    public required string Name { get; set; }
    public required string PasswordHash { get; set; }
    public required string Role { get; set; }
    public DateTime CreatedAt { get; set; }

    public static string Normalize(string email) => email.Trim().ToUpperInvariant();

    public const int MaxEmailLength = 256;

    // One rule for every e-mail the app takes in: registration, and the admin the migration service seeds.
    public static bool IsValidEmail(string? value)
    {
        var email = value?.Trim();
        return email is { Length: > 2 and <= MaxEmailLength }
            && MailAddress.TryCreate(email, out var address)
            && address.Address == email
            && address.Host.Contains('.');
    }
}

public static class Roles
{
    public const string User = "user";
    public const string Admin = "admin";
}
