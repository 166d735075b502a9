using System.ComponentModel.DataAnnotations;

namespace Evently.ApiService.Auth;

public sealed class JwtOptions
{
    public const string Section = "Evently:Jwt";

    // HMAC-SHA256 wants at least 256 bits. Supplied by the AppHost as a secret parameter.
    [Required, MinLength(32)]
    public string SigningKey { get; set; } = "";

    public string Issuer { get; set; } = "evently";
    public string Audience { get; set; } = "evently-api";

    [Range(1, 24 * 60)]
    public int LifetimeMinutes { get; set; } = 60;
}
