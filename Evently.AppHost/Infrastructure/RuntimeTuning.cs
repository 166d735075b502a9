namespace Evently.AppHost.Infrastructure;

public static class RuntimeTuning
{
    /// <summary>
    /// What keeps a .NET service's memory low under load, on Linux hosts, at no throughput measurable in the benchmark,
    /// and its code fast from the first burst (README: Memory). Environment variables, so a published container gets them too.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string>
    {
        // The gen 0 budget is otherwise sized from the CPU's cache (32 MiB of L3 gives about 25 MiB); 8 MiB
        // collects more often, each collection as cheap, and keeps 10–15 MiB less committed.
        ["DOTNET_GCgen0size"] = "0x800000",
        // glibc serves the JIT's 64 KiB scratch blocks from per-thread arenas and keeps them once freed
        // (about 13 MiB after warm-up); from this size up it maps them and gives them back.
        ["MALLOC_MMAP_THRESHOLD_"] = "65536",
        // Hot methods are recompiled optimised once called 30 times, but the runtime waits until no new method has been
        // compiled for 100 ms before it counts, and an on-sale's opening is a burst of code run for the first time (the
        // drain, the streams' positions): the worker and the stream replicas ran it unoptimised for seconds.
        ["DOTNET_TC_CallCountingDelayMs"] = "0"
    };

    public static IResourceBuilder<ProjectResource> WithRuntimeTuning(this IResourceBuilder<ProjectResource> project)
    {
        foreach (var (name, value) in Environment)
        {
            project.WithEnvironment(name, value);
        }
        return project;
    }
}
