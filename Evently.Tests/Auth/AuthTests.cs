
namespace Evently.Tests.Auth;

[Collection(AppCollection.Name)]
public sealed class AuthTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task Register_creates_a_user_with_the_user_role_even_if_admin_is_asked_for()
    {
        var email = TestApi.UniqueEmail();

        var response = await fixture.Api.PostAsJsonAsync("/api/auth/register",
            new { email, password = "password123", name = "Ada", role = "admin" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var user = (await response.Content.ReadFromJsonAsync<UserDto>())!;
        Assert.True(user.Id > 0);
        Assert.Equal(email, user.Email);
        Assert.Equal("Ada", user.Name);
        Assert.Equal("user", user.Role);
        Assert.DoesNotContain("password", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("not-an-email", "password123", "email")]
    [InlineData("", "password123", "email")]
    [InlineData("someone@example.com", "short", "password")]
    [InlineData("someone@example.com", null, "password")]
    public async Task Register_rejects_bad_email_or_short_password(string email, string? password, string field)
    {
        var response = await fixture.Api.PostAsJsonAsync("/api/auth/register", new { email, password, name = "Bob" });

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.FieldErrors(field));
    }

    [Fact]
    public async Task Register_refuses_an_email_taken_in_another_case()
    {
        var email = TestApi.UniqueEmail();
        var first = await fixture.Api.PostAsJsonAsync("/api/auth/register", new { email, password = "password123", name = "A" });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        var second = await fixture.Api.PostAsJsonAsync("/api/auth/register",
            new { email = email.ToUpperInvariant(), password = "password123", name = "B" });

        var problem = await second.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("email-taken", problem.Code());
    }

    [Fact]
    public async Task Login_returns_a_token_that_authenticates_the_user()
    {
        var email = TestApi.UniqueEmail();
        await fixture.Api.PostAsJsonAsync("/api/auth/register", new { email, password = "password123", name = "Cy" });

        var response = await fixture.Api.PostAsJsonAsync("/api/auth/login", new { email = email.ToUpperInvariant(), password = "password123" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var login = (await response.Content.ReadFromJsonAsync<LoginDto>())!;
        Assert.False(string.IsNullOrEmpty(login.AccessToken));
        Assert.True(login.ExpiresAt > DateTime.UtcNow);
        Assert.Equal(email, login.User.Email);
        Assert.Equal("user", login.User.Role);
    }

    [Fact]
    public async Task Login_answers_the_same_401_for_a_wrong_password_and_an_unknown_email()
    {
        var email = TestApi.UniqueEmail();
        await fixture.Api.PostAsJsonAsync("/api/auth/register", new { email, password = "password123", name = "Di" });

        var wrongPassword = await fixture.Api.PostAsJsonAsync("/api/auth/login", new { email, password = "password124" });
        var unknownEmail = await fixture.Api.PostAsJsonAsync("/api/auth/login", new { email = TestApi.UniqueEmail(), password = "password123" });

        var first = await wrongPassword.ReadProblemAsync(HttpStatusCode.Unauthorized);
        var second = await unknownEmail.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(first.GetProperty("type").GetString(), second.GetProperty("type").GetString());
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Admin_logs_in_with_the_admin_role()
    {
        using var admin = await fixture.AdminAsync();
        Assert.Equal("admin", admin.User.Role);
    }

    [Fact]
    public async Task Malformed_json_answers_400_problem_details()
    {
        using var content = new StringContent("{\"email\": ", System.Text.Encoding.UTF8, "application/json");

        var response = await fixture.Api.PostAsync("/api/auth/register", content);

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task A_burst_beyond_the_per_user_limit_answers_429_with_retry_after()
    {
        using var user = await fixture.NewUserAsync();

        // More than one bucket's worth at once; the bucket refills only every 10 seconds.
        var responses = await Task.WhenAll(Enumerable.Range(0, EventlyAppFixture.UserRateLimit + 60)
            .Select(_ => user.Http.GetAsync("/api/events/1")));

        var rejected = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(rejected);
        Assert.True(rejected[0].Headers.RetryAfter?.Delta > TimeSpan.Zero);
        await rejected[0].ReadProblemAsync(HttpStatusCode.TooManyRequests);
    }
}
