using Evently.AppHost.Infrastructure;

namespace Evently.Tests.Unit;

// The AppHost must find smtp4dev where 'dotnet tool restore' recorded it, whatever NUGET_PACKAGES says now.
public sealed class LocalToolsTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("evently-cli-home").FullName;

    [Fact]
    public void Finds_the_executable_the_tool_resolver_cache_records()
    {
        var executable = FakeExecutable("somewhere-else/rnwood.smtp4dev.linux-x64/3.15.0/Rnwood.Smtp4dev");
        WriteResolverCache("rnwood.smtp4dev", $$"""
            [{"Version":"3.14.0","Name":"smtp4dev","PathToExecutable":"{{FakeExecutable("old/Rnwood.Smtp4dev")}}"},
             {"Version":"3.15.0","Name":"smtp4dev","Runner":"executable","PathToExecutable":"{{executable}}"}]
            """);

        Assert.Equal(executable, LocalTools.FindExecutable("rnwood.smtp4dev", "smtp4dev", "3.15.0", _home));
    }

    [Fact]
    public void A_tool_not_restored_or_restored_elsewhere_and_deleted_is_not_found()
    {
        Assert.Null(LocalTools.FindExecutable("rnwood.smtp4dev", "smtp4dev", "3.15.0", _home));

        WriteResolverCache("rnwood.smtp4dev", """[{"Version":"3.15.0","Name":"smtp4dev","PathToExecutable":"/nonexistent/Rnwood.Smtp4dev"}]""");
        Assert.Null(LocalTools.FindExecutable("rnwood.smtp4dev", "smtp4dev", "3.15.0", _home));

        WriteResolverCache("rnwood.smtp4dev", "{ not the expected shape");
        Assert.Null(LocalTools.FindExecutable("rnwood.smtp4dev", "smtp4dev", "3.15.0", _home));
    }

    private string FakeExecutable(string relativePath)
    {
        var path = Path.Combine(_home, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        return path;
    }

    private void WriteResolverCache(string packageId, string json)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_home, ".dotnet", "toolResolverCache", "1"));
        File.WriteAllText(Path.Combine(dir.FullName, packageId), json);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);
}
