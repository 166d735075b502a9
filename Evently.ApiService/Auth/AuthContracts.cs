using Evently.Domain.Auth;

namespace Evently.ApiService.Auth;

public sealed record RegisterRequest(string? Email, string? Password, string? Name);

public sealed record LoginRequest(string? Email, string? Password);

public sealed record LoginResponse(string AccessToken, DateTime ExpiresAt, UserResponse User);

public sealed record UserResponse(long Id, string Email, string Name, string Role)
{
    public static UserResponse From(User user) => new(user.Id, user.Email, user.Name, user.Role);
}
