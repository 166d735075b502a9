using System.Security.Claims;
using Evently.Domain.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Evently.ApiService.Auth;

public static class AuthExtensions
{
    public const string AdminPolicy = "admin";
    public const string RoleClaim = "role";

    public static void AddEventlyAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<Microsoft.Extensions.Options.IOptions<JwtOptions>>((bearer, jwtOptions) =>
            {
                var jwt = jwtOptions.Value;
                bearer.MapInboundClaims = false;
                // Nothing reads the token back (GetTokenAsync): kept, it is a dictionary and the token's text for as long
                // as the request lasts, and a waiting-room stream lasts minutes.
                bearer.SaveToken = false;
                bearer.Events = new JwtBearerEvents
                {
                    // Only the claims the API reads (the user and the role): the identity the handler builds also holds
                    // the parsed token, with its own copy of every claim (the token's times, issuer, audience, e-mail,
                    // name), for as long as the request lasts.
                    OnTokenValidated = context =>
                    {
                        var identity = context.Principal!.Identities.First();
                        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(
                            identity.Claims.Where(c => c.Type is JwtRegisteredClaimNames.Sub or RoleClaim),
                            identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType));
                        return Task.CompletedTask;
                    }
                };
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Issuer,
                    ValidAudience = jwt.Audience,
                    IssuerSigningKey = TokenIssuer.SigningKey(jwt),
                    NameClaimType = JwtRegisteredClaimNames.Sub,
                    RoleClaimType = RoleClaim,
                    ClockSkew = TimeSpan.FromSeconds(30)
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireRole(Roles.Admin));
    }

    public static long UserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(JwtRegisteredClaimNames.Sub)
            ?? throw new InvalidOperationException("An authenticated user always has a subject."));

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(Roles.Admin);
}
