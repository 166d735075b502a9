using System.ComponentModel.DataAnnotations;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Auth;

namespace Evently.ApiService.Auth;

// The attributes state for the OpenAPI document what AuthApi.Validate checks (see OpenApiSchemaRules).
public sealed record RegisterRequest(
    [property: Required, EmailAddress, StringLength(User.MaxEmailLength)] string? Email,
    [property: Required, StringLength(AuthApi.MaxPasswordLength, MinimumLength = AuthApi.MinPasswordLength)] string? Password,
    [property: Required, NotBlank, StringLength(AuthApi.MaxNameLength)] string? Name);

public sealed record LoginRequest(
    [property: Required, NotBlank] string? Email,
    [property: Required, MinLength(1)] string? Password);

public sealed record LoginResponse(string AccessToken, DateTime ExpiresAt, UserResponse User);

public sealed record UserResponse(long Id, string Email, string Name, [property: EnumValues(typeof(Roles))] string Role)
{
    public static UserResponse From(User user) => new(user.Id, user.Email, user.Name, user.Role);
}
