using System.Text.Json.Nodes;

namespace Evently.Tests.Client;

/// <summary>
/// The Kiota client in Client/Generated is checked in, so that a reader sees what a generator makes of the
/// document: this fails when it is no longer what Kiota makes of the document the API serves now.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class GeneratedClientTests(EventlyAppFixture fixture)
{
    private const string Regenerate =
        "The checked-in client is stale: run eng/generate-client.sh and commit what it changes in Evently.Tests/Client.";

    private static readonly string RepositoryRoot =
        Path.GetDirectoryName(Path.GetDirectoryName(new Projects.Evently_ApiService().ProjectPath))!;

    private static readonly string ClientDirectory = Path.Combine(RepositoryRoot, "Evently.Tests", "Client");

    [Fact]
    public async Task The_checked_in_client_is_what_Kiota_makes_of_the_served_document()
    {
        var served = await fixture.Api.GetStringAsync("/openapi/v1.json");
        var checkedIn = await File.ReadAllTextAsync(Path.Combine(ClientDirectory, "openapi.json"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(served), JsonNode.Parse(checkedIn)),
            $"The API serves another document than Evently.Tests/Client/openapi.json. {Regenerate}");

        var scratch = Directory.CreateTempSubdirectory("evently-client-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(scratch.FullName, "openapi.json"), served);
            var (exitCode, output) = await DotnetProject.RunProcessAsync("bash",
                ["eng/generate-client.sh", "--kiota", scratch.FullName], RepositoryRoot);
            Assert.True(exitCode == 0, $"Kiota failed:\n{output}");

            var expected = Files(Path.Combine(scratch.FullName, "Generated"));
            var actual = Files(Path.Combine(ClientDirectory, "Generated"));
            var differing = expected.Keys.Union(actual.Keys)
                .Where(file => expected.GetValueOrDefault(file) != actual.GetValueOrDefault(file))
                .Order().ToList();
            Assert.True(differing.Count == 0, $"{Regenerate} Files that differ: {string.Join(", ", differing)}");
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private static Dictionary<string, string> Files(string directory) => Directory
        .EnumerateFiles(directory, "*", SearchOption.AllDirectories)
        .ToDictionary(path => Path.GetRelativePath(directory, path), path => File.ReadAllText(path).ReplaceLineEndings("\n"));
}
