using Evently.Domain.Common;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Auth;
using Evently.Domain.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Evently.ApiService.Auth;

public static class AuthApi
{
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 128;
    public const int MaxNameLength = 200;

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("api/auth").WithTags("Auth").RequireRateLimiting(RateLimiting.AuthPolicy);

        api.MapPost("/register", Register)
            .WithName("Register")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Create a user account")
            .WithDescription("Registers a user with the 'user' role (nobody can register as admin). E-mails are unique, case-insensitively.");

        api.MapPost("/login", Login)
            .WithName("Login")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .WithSummary("Log in and get a bearer token")
            .WithDescription("Answers the same 401 for an unknown e-mail and a wrong password.");

        return app;
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Register(
        RegisterRequest request, [AsParameters] AuthServices services, CancellationToken cancellationToken)
    {
        var errors = Validate(request);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var email = request.Email!.Trim();
        var user = new User
        {
            Email = email,
            NormalizedEmail = User.Normalize(email),
            Name = request.Name!.Trim(),
            Role = Roles.User,
            PasswordHash = "",
            CreatedAt = services.TimeProvider.UtcNow()
        };
        if (await services.Db.Users.AnyAsync(u => u.NormalizedEmail == user.NormalizedEmail, cancellationToken))
        {
            return Problems.From(AuthErrors.EmailTaken);
        }
        user.PasswordHash = services.PasswordHasher.HashPassword(user, request.Password!);

        services.Db.Users.Add(user);
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Two registrations of one e-mail raced and the unique index let only one in; or this one's insert committed
            // but its reply was lost, and the execution strategy's retry met it. The password's hash, salted afresh for
            // this request, tells which.
            var existing = await services.Db.Users.AsNoTracking()
                .SingleOrDefaultAsync(u => u.NormalizedEmail == user.NormalizedEmail, cancellationToken);
            if (existing?.PasswordHash != user.PasswordHash)
            {
                return Problems.From(AuthErrors.EmailTaken);
            }
            user = existing;
        }

        // No Location: the contract has no resource for a user.
        return TypedResults.Created((string?)null, UserResponse.From(user));
    }

    public static async Task<Results<Ok<LoginResponse>, ValidationProblem, ProblemHttpResult>> Login(
        LoginRequest request, [AsParameters] AuthServices services, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Email) || string.IsNullOrEmpty(request.Password))
        {
            return Problems.Validation(new Dictionary<string, string[]>
            {
                [string.IsNullOrWhiteSpace(request.Email) ? "email" : "password"] = ["Both email and password are required."]
            });
        }

        var normalizedEmail = User.Normalize(request.Email);
        var user = await services.Db.Users.AsNoTracking()
            .SingleOrDefaultAsync(u => u.NormalizedEmail == normalizedEmail, cancellationToken);

        // Hash even for an unknown e-mail, so the answer takes as long either way.
        var verification = services.PasswordHasher.VerifyHashedPassword(
            user ?? UnknownUser, user?.PasswordHash ?? UnknownUserHash, request.Password);
        if (user is null || verification == PasswordVerificationResult.Failed)
        {
            return Problems.From(AuthErrors.InvalidCredentials);
        }

        var (token, expiresAt) = services.Tokens.Issue(user);
        return TypedResults.Ok(new LoginResponse(token, expiresAt, UserResponse.From(user)));
    }

    internal static Dictionary<string, string[]> Validate(RegisterRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (!User.IsValidEmail(request.Email))
        {
            errors["email"] = ["A valid e-mail address is required."];
        }
        if (request.Password is null || request.Password.Length < MinPasswordLength)
        {
            errors["password"] = [$"The password must be at least {MinPasswordLength} characters long."];
        }
        else if (request.Password.Length > MaxPasswordLength)
        {
            errors["password"] = [$"The password must be at most {MaxPasswordLength} characters long."];
        }
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > MaxNameLength)
        {
            errors["name"] = [$"A name of 1 to {MaxNameLength} characters is required."];
        }
        return errors;
    }

    private static readonly User UnknownUser = new()
    {
        Email = "", NormalizedEmail = "", Name = "", Role = Roles.User, PasswordHash = ""
    };

    private static readonly string UnknownUserHash = new PasswordHasher<User>().HashPassword(UnknownUser, "not-a-password");
}

public sealed record AuthServices(
    EventlyDbContext Db, IPasswordHasher<User> PasswordHasher, TokenIssuer Tokens, TimeProvider TimeProvider);
