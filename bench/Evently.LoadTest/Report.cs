using System.Globalization;
using Evently.Tests.Infrastructure;

namespace Evently.LoadTest;

/// <summary>Prints the results: a console table, the invariants, and a Markdown block for BENCHMARKS.md.</summary>
internal static class Report
{
    public static void Print(string machine, LoadSettings settings, IReadOnlyList<ScenarioResult> results, InvariantReport invariants)
    {
        var baseline = results[0];
        Console.WriteLine();
        Console.WriteLine($"Machine: {machine}");
        Console.WriteLine($"Load: {settings.Clients} clients, {Seconds(settings.Duration)} s per scenario after a {Seconds(settings.WarmUp)} s warm-up");
        Console.WriteLine();
        Console.WriteLine($"{"Scenario",-24} {"requests",9} {"ok/s",9} {"req/s",9} {"p50 ms",8} {"p99 ms",8}  {"vs baseline",-16} errors");
        foreach (var r in results)
        {
            Console.WriteLine($"{r.Name,-24} {r.Requests,9:N0} {r.SuccessThroughput,9:N0} {r.Throughput,9:N0} {r.P50Ms,8:N1} {r.P99Ms,8:N1}  "
                + $"{Ratio(r, baseline) + " baseline",-16} {Errors(r)}");
        }

        Console.WriteLine();
        Console.WriteLine($"Invariants over {invariants.Events:N0} events:");
        Console.WriteLine($"  oversold: {invariants.Oversold}");
        Console.WriteLine($"  booked != 201s made: {invariants.Mismatched}");
        Console.WriteLine($"  total booked: {invariants.TotalBooked:N0}, total 201s: {invariants.TotalConfirmed:N0}, "
            + $"unanswered: {invariants.TotalUnanswered:N0} ({(invariants.TotalsAgree ? "agree" : "DISAGREE")})");
        Console.WriteLine($"  result: {(invariants.Holds ? "PASS" : "FAIL")}");

        Console.WriteLine();
        Console.WriteLine("---- paste into BENCHMARKS.md ----");
        Console.WriteLine($"Evently load benchmark, {DateTime.UtcNow:yyyy-MM-dd}: {machine}; app and benchmark on the same machine.");
        Console.WriteLine($"{settings.Clients} closed-loop clients, {Seconds(settings.Duration)} s per scenario after a {Seconds(settings.WarmUp)} s warm-up.");
        Console.WriteLine();
        Console.WriteLine("| Scenario | ok/s | p50 ms | p99 ms | vs baseline | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            Console.WriteLine($"| {r.Name} | {r.SuccessThroughput:N0} | {r.P50Ms:N1} | {r.P99Ms:N1} | {Ratio(r, baseline)} | {Errors(r)} |");
        }
        Console.WriteLine();
        Console.WriteLine($"Invariants ({invariants.Events:N0} events): oversold {invariants.Oversold}, booked != 201s {invariants.Mismatched}, "
            + $"{invariants.TotalBooked:N0} booked for {invariants.TotalConfirmed:N0} 201s: {(invariants.Holds ? "PASS" : "FAIL")}.");
    }

    public static void PrintHighDemand(HighDemandResult r, ScenarioResult baseline)
    {
        var others = r.OtherStatuses.Count == 0 ? "none" : string.Join(", ", r.OtherStatuses.Select(e => $"{e.Key}: {e.Value:N0}"));
        Console.WriteLine();
        Console.WriteLine("---- high-demand on-sale (paste into BENCHMARKS.md) ----");
        Console.WriteLine($"{r.Requests:N0} requests for {r.Capacity:N0} tickets of one high-demand event; "
            + (r.DrainHeld ? "the drain held until the intake was done, then timed alone." : "intake and drain at once."));
        Console.WriteLine();
        Console.WriteLine("| Measure | Value | vs baseline |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| Intake (202/s) | {r.IntakeRate:N0} | {(r.IntakeRate / baseline.SuccessThroughput).ToString("0.00", CultureInfo.InvariantCulture)}x |");
        Console.WriteLine($"| Intake p50 / p99 ms | {r.IntakeP50Ms:N1} / {r.IntakeP99Ms:N1} | |");
        var from = r.DrainHeld ? "drain start" : "first request";
        Console.WriteLine($"| Confirmations/s ({from} to the last confirmation) | {r.ConfirmationRate:N0} | |");
        Console.WriteLine($"| Answers/s ({from} to the last answer) | {r.AnswerRate:N0} | |");
        Console.WriteLine($"| {from} to last answer, s | {r.SecondsToLastAnswer:N1} | |");
        Console.WriteLine($"| E-mails sent for the on-sale (buyers) | {(r.Mails is { } mails ? mails.ToString("N0") : "not all sent within 3 min")} ({r.Buyers:N0}) | |");
        Console.WriteLine();
        Console.WriteLine($"Checks: {r.Accepted:N0} of {r.Requests:N0} accepted (other answers: {others}); {r.Confirmed:N0} confirmed, "
            + $"{r.Rejected:N0} rejected, {r.Accepted - r.Confirmed - r.Rejected:N0} unanswered; booked {r.Booked:N0}: {(r.Holds ? "PASS" : "FAIL")}.");
    }

    public static void PrintMixed(MixedResult r, ScenarioResult baseline, LoadSettings settings)
    {
        Console.WriteLine();
        Console.WriteLine("---- mixed reads and bookings (paste into BENCHMARKS.md) ----");
        Console.WriteLine($"{settings.Clients} anonymous readers alone, then {settings.Clients} bookers alone, then both at once "
            + $"({settings.Clients} + {settings.Clients} clients), {Seconds(settings.Duration)} s each after a {Seconds(settings.WarmUp)} s warm-up.");
        Console.WriteLine($"Reads, one at random per request: {string.Join(", ", r.ReadPaths)}.");
        Console.WriteLine($"Bookings: 1 ticket of one event ({r.BookedEventCapacity:N0} seats, not high-demand), each booker its own user.");
        Console.WriteLine();
        Console.WriteLine("| Load | ok/s | p50 ms | p99 ms | ratio | target | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---|");
        MixedRow(r.ReadsAlone, baseline, "/alive", 0.8);
        MixedRow(r.BookingsAlone, baseline, "/alive", null);
        MixedRow(r.ReadsDuringBookings, r.ReadsAlone, "reads alone", 0.6);
        MixedRow(r.BookingsDuringReads, r.BookingsAlone, "bookings alone", 0.8);

        Console.WriteLine();
        Console.WriteLine($"Staleness while both ran: a probe booked 1 ticket of its own event every {StalenessProbe.Interval.TotalMilliseconds:0} ms "
            + $"({r.Staleness.Bookings:N0} bookings{OtherAnswers(r.Staleness.OtherBookingStatuses)}) and read the event every "
            + $"{StalenessProbe.PollEvery.TotalMilliseconds:0} ms until the read showed it: ms from the 201 to the first read that did.");
        Console.WriteLine();
        Console.WriteLine("| Read | samples | p50 ms | p99 ms | max ms | target | failed reads |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---:|");
        StalenessRow(r.Staleness.Detail);
        if (r.Staleness.List is { } list)
        {
            StalenessRow(list);
        }
        else
        {
            Console.WriteLine("| GET /api/events (list) | not probed: the probe event was not on the first page | | | | | |");
        }

        Console.WriteLine();
        var i = r.Invariants;
        Console.WriteLine($"Checks (the booked event and the probe's): oversold {i.Oversold}, booked != 201s {i.Mismatched}, "
            + $"{i.TotalBooked:N0} booked for {i.TotalConfirmed:N0} 201s ({i.TotalUnanswered:N0} unanswered): {(i.Holds ? "PASS" : "FAIL")}.");
    }

    private static void MixedRow(ScenarioResult r, ScenarioResult against, string againstName, double? target)
    {
        var ratio = r.SuccessThroughput / against.SuccessThroughput;
        var goal = target is { } t ? $">= {t.ToString("0.0", CultureInfo.InvariantCulture)}x: {(ratio >= t ? "PASS" : "FAIL")}" : "";
        Console.WriteLine($"| {r.Name} | {r.SuccessThroughput:N0} | {r.P50Ms:N1} | {r.P99Ms:N1} | "
            + $"{ratio.ToString("0.00", CultureInfo.InvariantCulture)}x {againstName} | {goal} | {Errors(r)} |");
    }

    private static void StalenessRow(StalenessSamples s)
    {
        const double TargetMs = 1_000;
        var verdict = s.Count == 0 ? "no samples" : s.P99Ms <= TargetMs ? "PASS" : "FAIL";
        var gaveUp = s.GaveUp > 0 ? $" ({s.GaveUp} never shown within 10 s)" : "";
        Console.WriteLine($"| {s.Read} | {s.Count:N0}{gaveUp} | {Ms(s.P50Ms)} | {Ms(s.P99Ms)} | {Ms(s.MaxMs)} | p99 <= {TargetMs:N0} ms: {verdict} | {s.FailedReads:N0} |");
    }

    private static string Ms(double ms) => double.IsNaN(ms) ? "-" : double.IsPositiveInfinity(ms) ? "> 10,000" : ms.ToString("N1", CultureInfo.InvariantCulture);

    private static string OtherAnswers(IReadOnlyDictionary<int, int> statuses) =>
        statuses.Count == 0 ? "" : "; other answers: " + Statuses(statuses);

    /// <param name="after">What just ran, e.g. "the mixed scenario".</param>
    public static void PrintMemory(string after, IReadOnlyList<ProcessMemory> processes)
    {
        Console.WriteLine();
        if (processes.Count == 0)
        {
            Console.WriteLine($"RSS after {after}: the API and worker processes were not found (Linux /proc only).");
            return;
        }
        foreach (var p in processes)
        {
            Console.WriteLine($"{p.Service} RSS after {after}: {MiB(p.RssBytes)} MiB (peak {MiB(p.PeakRssBytes)} MiB since start, pid {p.Pid})");
        }
    }

    // The app exports as it would to a collector, a trace in ten sampled: a check that it did, and how much.
    public static void PrintTelemetry(OtlpCounts received) =>
        Console.WriteLine($"Telemetry received from the app: {received.TraceExports:N0} trace, {received.MetricExports:N0} metric " +
            $"and {received.LogExports:N0} log exports, {MiB(received.Bytes)} MiB");

    private static string MiB(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0", CultureInfo.InvariantCulture);

    public static void PrintAnalytics(string machine, AnalyticsResult r)
    {
        Console.WriteLine();
        Console.WriteLine("---- admin analytics (paste into BENCHMARKS.md) ----");
        Console.WriteLine($"Evently analytics benchmark, {DateTime.UtcNow:yyyy-MM-dd}: {machine}; app and benchmark on the same machine.");
        Console.WriteLine($"{r.Bookings:N0} bookings ({r.Cancelled:N0} cancelled) over {r.Events:N0} events and 365 days, seeded set-based in {r.SeedSeconds:N0} s. "
            + $"One call at a time: {r.Endpoints[0].Calls} uncached ('Cache-Control: no-cache'), {r.Endpoints[0].Calls * 4} cached.");
        Console.WriteLine();
        Console.WriteLine("| Endpoint | uncached p50 ms | uncached p99 ms | cached p50 ms | cached p99 ms | answer |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var e in r.Endpoints)
        {
            Console.WriteLine($"| {e.Name} | {e.UncachedP50Ms:N1} | {e.UncachedP99Ms:N1} | {e.CachedP50Ms:N1} | {e.CachedP99Ms:N1} | {e.Bytes / 1024.0:N1} KiB |");
        }
        Console.WriteLine();
        Console.WriteLine("Without rollups, the same figures counted from the bookings table (one SQL query each, no HTTP): "
            + string.Join("; ", r.WithoutRollups.Select(w => $"{w.What} {w.Ms:N0} ms")) + ".");
        Console.WriteLine($"Checks against the bookings table: {string.Join("; ", r.Checks)}.");
    }

    private static string Ratio(ScenarioResult result, ScenarioResult baseline) =>
        (result.SuccessThroughput / baseline.SuccessThroughput).ToString("0.00", CultureInfo.InvariantCulture) + "x";

    private static string Errors(ScenarioResult result) => result.ErrorsByStatus.Count == 0 ? "none" : Statuses(result.ErrorsByStatus);

    private static string Statuses(IReadOnlyDictionary<int, int> counts) => string.Join(", ", counts.OrderBy(e => e.Key)
        .Select(e => $"{(e.Key == EventlyApi.NoResponse ? "no response" : e.Key.ToString(CultureInfo.InvariantCulture))}: {e.Value:N0}"));

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
}
