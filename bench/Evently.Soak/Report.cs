using Evently.Soak.Checks;
using Evently.Soak.Faults;

namespace Evently.Soak;

/// <summary>The soak's output: what ran, what broke, what the clients saw, and a verdict per invariant.</summary>
internal static class Report
{
    public static void Print(SoakOptions options, TimeSpan ran, TimeSpan settled, Ledger ledger, IReadOnlyList<Fault> faults,
        IReadOnlyList<Verdict> verdicts, int toolErrors)
    {
        Console.WriteLine();
        Console.WriteLine("==== chaos soak ====");
        Console.WriteLine($"seed {options.Seed}, {ran.TotalMinutes:0.0} minutes of load ({options.Users} users, {options.Shoppers} shoppers, "
            + $"{options.Browsers} browsers, an on-sale every {options.OnSaleEvery.TotalSeconds:0} s), settled in {settled.TotalSeconds:0} s");
        Console.WriteLine($"repeat: dotnet run --project bench/Evently.Soak -- --minutes {options.Minutes} --seed {options.Seed}");

        Console.WriteLine();
        Console.WriteLine($"faults: {faults.Count}");
        foreach (var kind in faults.GroupBy(f => f.Kind).OrderBy(g => g.Key))
        {
            Console.WriteLine($"  {Nemesis.Describe(kind.Key),-28} {kind.Count(),3}");
        }
        if (faults.Count > 0)
        {
            Console.WriteLine();
        }
        // What each fault hit, from its start to its first success (plus the grace): the requests answered meanwhile, the
        // client's repeats and the 502/503/504 answers. "on-sale" marks the faults timed to land in an on-sale.
        if (faults.Count > 0)
        {
            Console.WriteLine("  #  fault                        target                                  length  healed  first success  answered  retries  503s");
        }
        foreach (var f in faults)
        {
            var (from, to) = f.Window(Invariants.FaultGrace);
            Console.WriteLine($"  {f.Number,2} {Nemesis.Describe(f.Kind),-28} {Truncate(f.Target, 38),-38} {f.Length.TotalSeconds,6:0.0}s "
                + $"{(f.HealedAt - f.StartedAt)?.TotalSeconds,6:0.0}s {(f.Recovery is { } r ? $"{r.TotalSeconds,8:0.0}s" : "   never"),13} "
                + $"{ledger.AnsweredAt.Count(t => t >= from && t <= to),9} {ledger.RetriedAt.Count(t => t >= from && t <= to),8} "
                + $"{ledger.Unavailable.Count(u => u.At >= from && u.At <= to),5}{(f.DuringOnSale ? "  on-sale" : "")}");
        }

        Console.WriteLine();
        Console.WriteLine($"requests: {ledger.TotalRequests:N0} ({ledger.TotalRequests / ran.TotalSeconds:0.0}/s), retries: {ledger.TotalRetries:N0}, "
            + $"gave up: {ledger.Answers.Where(a => a.Key.Answer == "gave up").Sum(a => a.Value)}");
        foreach (var kind in ledger.Answers.GroupBy(a => a.Key.Kind).OrderBy(g => g.Key))
        {
            var answers = string.Join("  ", kind.OrderBy(a => a.Key.Answer).Select(a => $"{a.Key.Answer}: {a.Value}"));
            var retries = ledger.Retries.Where(r => r.Key.Kind == kind.Key).ToList();
            var retried = retries.Count == 0 ? "" : $"   (retries: {string.Join(", ", retries.OrderBy(r => r.Key.Status).Select(r => $"{(r.Key.Status == 0 ? "no response" : r.Key.Status.ToString())} x{r.Value}"))})";
            Console.WriteLine($"  {kind.Key,-16} {kind.Sum(a => a.Value),7:N0}   {answers}{retried}");
        }
        if (toolErrors > 0)
        {
            Console.WriteLine($"  the soak tool itself failed {toolErrors} times (see above); these are not counted against the app");
        }

        Console.WriteLine();
        Console.WriteLine("invariants:");
        foreach (var verdict in verdicts)
        {
            Console.WriteLine($"  {(verdict.Passed ? "PASS" : "FAIL")}  {verdict.Name}{(verdict.Summary.Length > 0 ? $" ({verdict.Summary})" : "")}");
            foreach (var evidence in verdict.Evidence)
            {
                Console.WriteLine($"          {evidence}");
            }
        }
        var failed = verdicts.Count(v => !v.Passed);
        Console.WriteLine();
        Console.WriteLine(failed == 0
            ? $"PASS: {ran.TotalMinutes:0.0} minutes, {faults.Count} faults, {ledger.TotalRequests:N0} requests, nothing lost"
            : $"FAIL: {failed} of {verdicts.Count} invariants broken (seed {options.Seed})");
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
