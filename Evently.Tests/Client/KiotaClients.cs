using System.Net.Http.Headers;
using Aspire.Hosting.Testing;
using Evently.Tests.Client.Models;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;

namespace Evently.Tests.Client;

/// <summary>A caller of the app under test through the generated client, signed in when it has a user.</summary>
public sealed class KiotaCaller(EventlyClient client, HttpClient http, UserResponse? user) : IDisposable
{
    public EventlyClient Client { get; } = client;
    public UserResponse? User { get; } = user;

    public void Dispose() => http.Dispose();
}

public static class KiotaClients
{
    /// <summary>
    /// The generated client with Kiota's own HTTP pipeline, ending in the fixture's recording handler so that
    /// its traffic is checked against the document too.
    /// </summary>
    public static KiotaCaller CreateKiotaCaller(this EventlyAppFixture fixture, string? accessToken = null, UserResponse? user = null)
    {
        var http = KiotaClientFactory.Create(fixture.Traffic.Handler());
        if (accessToken is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        var adapter = new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http)
        {
            BaseUrl = fixture.App.GetEndpoint("api", "http").ToString().TrimEnd('/')
        };
        return new KiotaCaller(new EventlyClient(adapter), http, user);
    }

    /// <summary>Logs in through the generated client and answers a caller signed in with the token it got.</summary>
    public static async Task<KiotaCaller> KiotaLoginAsync(this EventlyAppFixture fixture, string email, string password)
    {
        using var anonymous = fixture.CreateKiotaCaller();
        var login = await anonymous.Client.Api.Auth.Login.PostAsync(new LoginRequest { Email = email, Password = password });
        return fixture.CreateKiotaCaller(login!.AccessToken, login.User);
    }
}
