using System.Net.Http.Headers;
using Evently.ApiService.Auth;
using Evently.Domain.Auth;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// Many accounts at once, for a test that needs hundreds of buyers: written by one INSERT ... SELECT (no password
/// hashing), each signed in with a token signed like the API's own (the fixture's signing key).
/// </summary>
public static class SeededAccounts
{
    public static async Task<List<Caller>> SeedAccountsAsync(this EventlyAppFixture fixture, int count)
    {
        var run = Guid.NewGuid().ToString("N")[..12];
        await using var connection = new MySqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await new MySqlCommand($"""
            INSERT INTO users (Email, NormalizedEmail, Name, PasswordHash, Role, CreatedAt)
              SELECT CONCAT('buyer-{run}-', seq, '@example.com'), CONCAT('BUYER-{run}-', seq, '@EXAMPLE.COM'), 'Buyer', '-', 'user', UTC_TIMESTAMP(6)
              FROM seq_1_to_{count}
            """, connection).ExecuteNonQueryAsync();
        var users = new List<User>();
        await using (var reader = await new MySqlCommand($"SELECT Id, Email FROM users WHERE Email LIKE 'buyer-{run}-%' ORDER BY Id", connection).ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                users.Add(new User { Id = reader.GetInt64(0), Email = reader.GetString(1), NormalizedEmail = "", Name = "Buyer", PasswordHash = "-", Role = "user" });
            }
        }
        var issuer = new TokenIssuer(Options.Create(new JwtOptions { SigningKey = EventlyAppFixture.SigningKey }), TimeProvider.System);
        return users.Select(user =>
        {
            var http = fixture.CreateApiClient();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issuer.Issue(user).Token);
            return new Caller(http, new UserDto(user.Id, user.Email, user.Name, user.Role));
        }).ToList();
    }
}
