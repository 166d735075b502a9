using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace Evently.ApiService.Infrastructure;

/// <summary>
/// The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, so that per-client limits see the
/// client rather than the proxy. Nothing is trusted unless listed: anyone else could name any client.
/// </summary>
public sealed class TrustedProxiesOptions : IValidatableObject
{
    public const string Section = "Evently:ForwardedHeaders";

    // Single addresses, e.g. 10.0.0.4.
    public List<string> KnownProxies { get; set; } = [];

    // CIDR ranges, e.g. 10.0.0.0/8.
    public List<string> KnownNetworks { get; set; } = [];

    // How many proxies in a row to look back through; each one must be trusted.
    [Range(1, 10)]
    public int ForwardLimit { get; set; } = 1;

    public bool TrustsAnyone => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        KnownProxies.Where(proxy => !IPAddress.TryParse(proxy, out _))
            .Select(proxy => new ValidationResult($"{Section}:KnownProxies: '{proxy}' is not an IP address."))
            .Concat(KnownNetworks.Where(network => !IPNetwork.TryParse(network, out _))
                .Select(network => new ValidationResult($"{Section}:KnownNetworks: '{network}' is not a CIDR range like 10.0.0.0/8.")));
}

public static class TrustedProxies
{
    public static void AddEventlyForwardedHeaders(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrustedProxiesOptions>().BindConfiguration(TrustedProxiesOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();

        // After every other configuration, including the one ASPNETCORE_FORWARDEDHEADERS_ENABLED=true adds
        // (Aspire sets it in publish mode), which empties both lists: to the middleware that means trust everyone.
        builder.Services.AddOptions<ForwardedHeadersOptions>().PostConfigure<IOptions<TrustedProxiesOptions>>((forwarded, options) =>
        {
            var trusted = options.Value;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in trusted.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
            foreach (var network in trusted.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(IPNetwork.Parse(network));
            }
            // Empty lists would trust everyone, so with nobody to trust the headers are not read at all.
            forwarded.ForwardedHeaders = trusted.TrustsAnyone
                ? ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto
                : ForwardedHeaders.None;
            forwarded.ForwardLimit = trusted.ForwardLimit;
        });
    }

    /// <summary>First in the pipeline, so that the rate limiter, the logs and the traces see the client.</summary>
    public static void UseEventlyForwardedHeaders(this WebApplication app)
    {
        // With ASPNETCORE_FORWARDEDHEADERS_ENABLED=true the host has put the middleware first already, with the
        // options above; running it twice would believe one more hop than configured.
        if (!string.Equals(app.Configuration["ForwardedHeaders_Enabled"], "true", StringComparison.OrdinalIgnoreCase))
        {
            app.UseForwardedHeaders();
        }
    }
}
