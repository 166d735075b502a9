using System.Text.Json;

namespace Evently.Tests.Unit;

/// <summary>
/// The dashboard shows every resource's environment (the JWT signing key, the database and cache passwords): it asks
/// for the login token the AppHost makes at each start, whose link ./run.sh shows.
/// </summary>
public sealed class DashboardTests
{
    private static readonly string AppHostDirectory = Projects.Evently_AppHost.ProjectPath.EndsWith(".csproj")
        ? Path.GetDirectoryName(Projects.Evently_AppHost.ProjectPath)!
        : Projects.Evently_AppHost.ProjectPath;

    [Fact]
    public void No_launch_profile_of_the_AppHost_lets_the_dashboard_in_without_its_login_token()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppHostDirectory, "Properties", "launchSettings.json")));

        foreach (var profile in settings.RootElement.GetProperty("profiles").EnumerateObject())
        {
            var environment = profile.Value.TryGetProperty("environmentVariables", out var variables)
                ? variables.EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString())
                : [];
            Assert.DoesNotContain(environment, v => v.Key.EndsWith("DASHBOARD_UNSECURED_ALLOW_ANONYMOUS") && v.Value == "true");
            Assert.DoesNotContain(environment, v => v.Key.EndsWith("DASHBOARD_FRONTEND_AUTHMODE") && v.Value == "Unsecured");
        }
    }

    [Fact]
    public void Run_sh_points_at_the_login_link_the_AppHost_prints()
    {
        var runScript = File.ReadAllText(Path.Combine(AppHostDirectory, "..", "run.sh"));

        Assert.Contains("Login to the dashboard at", runScript);
        Assert.DoesNotContain("ALLOW_ANONYMOUS", runScript);
    }
}
