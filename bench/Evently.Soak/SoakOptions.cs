using System.Globalization;

namespace Evently.Soak;

/// <summary>The command line: <c>--minutes 3 --seed 42</c> and the knobs of the load and the nemesis.</summary>
internal sealed record SoakOptions(
    double Minutes, int Seed, int Users, int Shoppers, int Browsers, TimeSpan OnSaleEvery, TimeSpan MinFaultGap, TimeSpan MaxFaultGap,
    bool Faults, bool PlanOnly)
{
    public TimeSpan Duration => TimeSpan.FromMinutes(Minutes);

    public static SoakOptions Parse(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        double Number(string name, double fallback) =>
            Value(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

        return new SoakOptions(
            Minutes: Number("--minutes", 3),
            // A seed nobody chose is still printed, so that any run can be repeated.
            Seed: (int)Number("--seed", Random.Shared.Next(1, 1_000_000)),
            Users: (int)Number("--users", 100),
            Shoppers: (int)Number("--shoppers", 10),
            Browsers: (int)Number("--browsers", 3),
            OnSaleEvery: TimeSpan.FromSeconds(Number("--onsale-every", 60)),
            MinFaultGap: TimeSpan.FromSeconds(Number("--min-fault-gap", 6)),
            MaxFaultGap: TimeSpan.FromSeconds(Number("--max-fault-gap", 16)),
            Faults: !args.Contains("--no-faults"),
            PlanOnly: args.Contains("--plan"));
    }
}
