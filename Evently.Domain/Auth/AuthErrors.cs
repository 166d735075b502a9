using Evently.Domain.Common;

namespace Evently.Domain.Auth;

public static class AuthErrors
{
    public static readonly DomainError EmailTaken =
        new(ErrorKind.Conflict, "email-taken", "An account with this e-mail already exists.");

    public static readonly DomainError InvalidCredentials =
        new(ErrorKind.Unauthorized, "invalid-credentials", "The e-mail or password is wrong.");
}
