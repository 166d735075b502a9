using System.Text.Json;
using Evently.Domain.Auth;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Foundation;

[Collection(AppCollection.Name)]
public sealed class FoundationTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task Health_reports_healthy_with_database_and_redis()
    {
        var response = await fixture.Api.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await fixture.Api.GetAsync("/alive")).StatusCode);
    }

    [Fact]
    public async Task Migrations_created_the_first_admin()
    {
        await using var db = fixture.CreateDbContext();

        var admin = await db.Users.SingleAsync(u => u.NormalizedEmail == User.Normalize("admin@evently.local"));

        Assert.Equal(Roles.Admin, admin.Role);
        Assert.NotEqual("evently-admin-dev", admin.PasswordHash);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task OpenApi_document_and_Scalar_reference_are_served()
    {
        var document = await fixture.Api.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());

        var page = await fixture.Api.GetAsync("/api-docs/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<title>Evently API</title>", html);
        Assert.Contains("scalar", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Unknown_route_answers_problem_details()
    {
        var response = await fixture.Api.GetAsync("/api/no-such-thing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("title", out _));
    }

    [Fact]
    public async Task Running_the_migration_service_again_changes_nothing()
    {
        await using var db = fixture.CreateDbContext();
        var usersBefore = await db.Users.CountAsync();
        var eventsBefore = await db.Events.CountAsync();
        var migrationsBefore = (await db.Database.GetAppliedMigrationsAsync()).ToList();

        var (exitCode, output) = await DotnetProject.RunAsync(new Projects.Evently_MigrationService().ProjectPath, [],
            new Dictionary<string, string>
            {
                ["ConnectionStrings__evently"] = fixture.DatabaseConnectionString,
                ["Evently__Database__ServerVersion"] = "10.11.0-mariadb",
                ["Evently__Admin__Email"] = "admin@evently.local",
                ["Evently__Admin__Password"] = "a-different-password",
                ["Evently__SeedDemoData"] = "false"
            });

        Assert.True(exitCode == 0, output);
        Assert.Equal(usersBefore, await db.Users.CountAsync());
        Assert.Equal(eventsBefore, await db.Events.CountAsync());
        Assert.Equal(migrationsBefore, await db.Database.GetAppliedMigrationsAsync());
    }
}

public sealed class ManifestTests
{
    [Fact]
    public async Task Publish_manifest_has_containers_and_no_executables()
    {
        var outputPath = Path.Combine(Path.GetTempPath(), $"evently-manifest-{Guid.NewGuid():N}", "aspire-manifest.json");

        var (exitCode, output) = await DotnetProject.RunAsync(Projects.Evently_AppHost.ProjectPath,
            ["--publisher", "manifest", "--output-path", outputPath]);

        Assert.True(exitCode == 0, output);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(outputPath));
        var types = manifest.RootElement.GetProperty("resources").EnumerateObject()
            .ToDictionary(r => r.Name, r => r.Value.GetProperty("type").GetString());
        Assert.DoesNotContain(types.Values, type => type!.StartsWith("executable"));
        Assert.Equal("container.v0", types["mysql"]);
        Assert.Equal("container.v0", types["redis"]);
        Assert.Equal("container.v0", types["smtp"]);
        Assert.Equal("project.v0", types["api"]);
        Directory.Delete(Path.GetDirectoryName(outputPath)!, recursive: true);
    }
}
