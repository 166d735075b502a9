using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.IdentityModel.JsonWebTokens;
using StackExchange.Redis;

namespace Evently.ApiService.Infrastructure;

public sealed class RateLimitingOptions
{
    public const string Section = "Evently:RateLimiting";

    // Token buckets refilled by the limit every period, shared by every API replica: a user may burst up to the limit at once.
    public int UserTokenLimit { get; set; } = 100;
    public int AnonymousTokenLimit { get; set; } = 60;

    // Stricter, per client IP (per /64 for IPv6): slows password guessing and mass registration.
    public int AuthTokenLimit { get; set; } = 10;
    public int ReplenishmentPeriodSeconds { get; set; } = 10;
}

public static class RateLimiting
{
    public const string AuthPolicy = "auth";

    public static void AddEventlyRateLimiting(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(RateLimitingOptions.Section).Get<RateLimitingOptions>() ?? new();
        var period = TimeSpan.FromSeconds(options.ReplenishmentPeriodSeconds);

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;

            // Every request: one bucket per user, or per IP address (IPv6: per /64) when anonymous. Behind a
            // proxy the address is the client's only if the proxy is trusted (TrustedProxies).
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.User.FindFirstValue(JwtRegisteredClaimNames.Sub) is { } userId
                    ? Bucket(context, $"user:{userId}", options.UserTokenLimit, period)
                    : Bucket(context, $"ip:{ClientAddress(context)}", options.AnonymousTokenLimit, period));

            limiter.AddPolicy(AuthPolicy, context =>
                Bucket(context, $"auth:{ClientAddress(context)}", options.AuthTokenLimit, period));

            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? (int)Math.Ceiling(wait.TotalSeconds)
                    : options.ReplenishmentPeriodSeconds;
                rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, retryAfter).ToString();

                var problems = rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = rejected.HttpContext,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Type = Problems.TypeBase + "too-many-requests",
                        Title = "Too many requests",
                        Detail = $"Slow down: try again in {Math.Max(1, retryAfter)} seconds."
                    }
                });
            };
        });
    }

    // Buckets shared by every replica through Redis (SharedTokenBucket), each its own limiter per partition.
    private static RateLimitPartition<string> Bucket(HttpContext context, string key, int limit, TimeSpan period) =>
        RateLimitPartition.Get(key, partition => new SharedTokenBucket(partition, limit, period,
            context.RequestServices.GetRequiredService<IConnectionMultiplexer>(),
            context.RequestServices.GetRequiredService<ILogger<SharedTokenBucket>>()));

    private static string ClientAddress(HttpContext context) => ClientPartition(context.Connection.RemoteIpAddress);

    /// <summary>
    /// The bucket of an anonymous caller: its IPv4 address, or its IPv6 /64, which one client (one home,
    /// one VM) gets whole and can rotate through at will. An IPv4-mapped IPv6 address is its IPv4 address.
    /// </summary>
    internal static string ClientPartition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        bytes.AsSpan(8).Clear();
        return $"{new IPAddress(bytes)}/64";
    }
}
