using System.Net.Sockets;
using Evently.ApiService.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Evently.Tests.Unit;

// Rate limits key anonymous callers on their address: it must be the client's, and not one it can choose.
public sealed class RateLimitPartitionTests
{
    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:abcd::7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    public void Addresses_of_one_client_share_a_bucket(string one, string other) =>
        Assert.Equal(Partition(one), Partition(other));

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1")]
    [InlineData("203.0.113.7", "203.0.113.8")]
    [InlineData("::ffff:203.0.113.7", "::ffff:203.0.113.8")]
    public void Addresses_of_different_clients_do_not(string one, string other) =>
        Assert.NotEqual(Partition(one), Partition(other));

    private static string Partition(string address) => RateLimiting.ClientPartition(IPAddress.Parse(address));
}

// The API's own forwarded-headers set-up in front of a real Kestrel: requests come from 127.0.0.1, the proxy.
public sealed class TrustedProxiesTests
{
    private const string Client = "2001:db8:1:2::7";

    [Theory]
    [InlineData("Evently:ForwardedHeaders:KnownProxies:0=127.0.0.1")]
    [InlineData("Evently:ForwardedHeaders:KnownNetworks:0=127.0.0.0/8")]
    public async Task From_a_configured_proxy_the_forwarded_client_is_the_caller(string setting)
    {
        Assert.Equal("2001:db8:1:2::/64", await ClientSeenAsync([setting], Client));
    }

    [Theory]
    [InlineData]
    [InlineData("Evently:ForwardedHeaders:KnownProxies:0=10.0.0.1", "Evently:ForwardedHeaders:KnownNetworks:0=192.168.0.0/16")]
    public async Task From_an_address_not_configured_the_header_is_ignored(params string[] settings)
    {
        Assert.Equal("127.0.0.1", await ClientSeenAsync(settings, Client));
    }

    [Fact]
    public async Task Aspire_publish_mode_trusts_the_configured_proxies_only()
    {
        // ASPNETCORE_FORWARDEDHEADERS_ENABLED=true alone would believe anyone.
        Assert.Equal("127.0.0.1", await ClientSeenAsync(
            ["ForwardedHeaders_Enabled=true", "Evently:ForwardedHeaders:KnownProxies:0=10.0.0.1"], Client));
        Assert.Equal("127.0.0.1", await ClientSeenAsync(["ForwardedHeaders_Enabled=true"], Client));
        Assert.Equal("2001:db8:1:2::/64", await ClientSeenAsync(
            ["ForwardedHeaders_Enabled=true", "Evently:ForwardedHeaders:KnownProxies:0=127.0.0.1"], Client));
    }

    [Fact]
    public async Task A_proxy_is_looked_back_through_only_as_far_as_configured()
    {
        // The client named 203.0.113.9 itself; the trusted proxy 127.0.0.2 appended the address it saw.
        string[] trustLoopback = ["Evently:ForwardedHeaders:KnownNetworks:0=127.0.0.0/8"];

        Assert.Equal("127.0.0.2", await ClientSeenAsync(trustLoopback, "203.0.113.9, 127.0.0.2"));
        Assert.Equal("127.0.0.2", await ClientSeenAsync([.. trustLoopback, "ForwardedHeaders_Enabled=true"], "203.0.113.9, 127.0.0.2"));
        Assert.Equal("203.0.113.9", await ClientSeenAsync(
            [.. trustLoopback, "Evently:ForwardedHeaders:ForwardLimit=2"], "203.0.113.9, 127.0.0.2"));
    }

    [Fact]
    public async Task A_setting_that_is_not_an_address_stops_the_start()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() =>
            ClientSeenAsync(["Evently:ForwardedHeaders:KnownNetworks:0=10.0.0.0"], Client));
        Assert.Contains("Evently:ForwardedHeaders:KnownNetworks", failure.Message);
    }

    // The rate limiter's partition of a request carrying X-Forwarded-For, as the API's pipeline sees it.
    private static async Task<string> ClientSeenAsync(string[] settings, string forwardedFor)
    {
        var builder = WebApplication.CreateBuilder([.. settings.Select(setting => $"--{setting}")]);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddEventlyForwardedHeaders();
        await using var app = builder.Build();
        app.UseEventlyForwardedHeaders();
        app.MapGet("/", (HttpContext context) => RateLimiting.ClientPartition(context.Connection.RemoteIpAddress));
        await app.StartAsync();

        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
