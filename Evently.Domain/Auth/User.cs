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
}

public static class Roles
{
    public const string User = "user";
    public const string Admin = "admin";
}
