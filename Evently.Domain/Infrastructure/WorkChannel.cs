namespace Evently.Domain.Infrastructure;

/// <summary>The Redis pub/sub channel on which the API wakes the worker after a commit that left it work.</summary>
public static class WorkChannel
{
    public const string Name = "evently:work";
}
