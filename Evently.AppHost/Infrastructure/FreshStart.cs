namespace Evently.AppHost.Infrastructure;

// '--fresh' starts the app over with empty data: the data dirs in processes mode, the named volumes in
// containers mode. Persisted passwords are kept: a recreated MySQL volume is initialised with the same one.
public static class FreshStart
{
    public const string Argument = "--fresh";

    /// <summary>Removes the named volumes of the model's containers through the container runtime.</summary>
    /// <param name="run">Runs a command and throws when it fails, like <see cref="LocalProcesses.Run"/>.</param>
    /// <returns>The volumes removed.</returns>
    public static IReadOnlyList<string> RemoveVolumes(
        IEnumerable<IResource> resources, string containerRuntime, Action<string, string[]> run)
    {
        var volumes = resources.OfType<ContainerResource>()
            .SelectMany(container => container.Annotations.OfType<ContainerMountAnnotation>())
            .Where(mount => mount.Type == ContainerMountType.Volume && !string.IsNullOrEmpty(mount.Source))
            .Select(mount => mount.Source!)
            .Distinct()
            .ToList();

        if (volumes.Count > 0)
        {
            // -f: a volume that was never created is not an error (docker and podman alike).
            run(containerRuntime, ["volume", "rm", "-f", .. volumes]);
        }
        return volumes;
    }
}
