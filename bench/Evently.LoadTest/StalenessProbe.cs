using System.Diagnostics;

namespace Evently.LoadTest;

/// <summary>
/// How long one kind of event read took to show the probe's bookings: ms from each <c>201</c> to the first read
/// that showed it. <see cref="GaveUp"/> bookings were still not shown after 10 s; <see cref="FailedReads"/> reads
/// got no <c>200</c> (or, for the list, no such event on the page) and counted as not showing it.
/// </summary>
internal sealed record StalenessSamples(string Read, IReadOnlyList<double> DelaysMs, int GaveUp, int FailedReads)
{
    public int Count => DelaysMs.Count + GaveUp;
    public double P50Ms => Percentile(0.50);
    public double P99Ms => Percentile(0.99);
    public double MaxMs => Percentile(1.0);

    // Nearest rank; a booking never shown ranks above every other (infinite).
    private double Percentile(double p)
    {
        if (Count == 0)
        {
            return double.NaN;
        }
        var rank = Math.Max(0, (int)Math.Ceiling(p * Count) - 1);
        return rank < DelaysMs.Count ? DelaysMs.Order().ElementAt(rank) : double.PositiveInfinity;
    }
}

internal sealed record StalenessResult(
    StalenessSamples Detail, StalenessSamples? List, int Bookings, IReadOnlyDictionary<int, int> OtherBookingStatuses);

/// <summary>
/// Measures how far event reads lag bookings (API.md allows up to 1 s). It books one ticket of its own event
/// every <see cref="Interval"/>, as the only buyer of that event, so once its n-th <c>201</c> has arrived the
/// event has n tickets booked (more only if a request got no answer and booked anyway); it then reads the
/// event as any client does (cached reads included) every <see cref="PollEvery"/> until a read says
/// <c>booked &gt;= n</c>. A sample is the time from the <c>201</c>'s arrival to the sending of the first read
/// that showed it: the lag was at most that, and more than the sending of the read before it (a read's own
/// latency is not counted). The list page is probed the same way, at the same time, if the event is on it.
/// </summary>
internal sealed class StalenessProbe(EventlyApi api, string userToken, long eventId, string? listPath, Action<int> recordBooking)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(150);
    public static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(10);

    public async Task<StalenessResult> RunAsync(TimeSpan duration)
    {
        var detail = new Visibility("GET /api/events/{id}", () => api.TryReadBookedAsync(eventId));
        var list = listPath is null ? null : new Visibility($"GET {listPath}", () => api.TryReadBookedInListAsync(listPath, eventId));
        var committed = 0;
        var others = new Dictionary<int, int>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            var cycle = Stopwatch.GetTimestamp();
            var status = await api.BookAsync(userToken, eventId);
            var confirmedAt = Stopwatch.GetTimestamp();
            recordBooking(status);
            if (status == 201)
            {
                committed++;
                await Task.WhenAll(detail.TimeAsync(committed, confirmedAt), list?.TimeAsync(committed, confirmedAt) ?? Task.CompletedTask);
            }
            else
            {
                others[status] = others.GetValueOrDefault(status) + 1;
            }

            if (Interval - Stopwatch.GetElapsedTime(cycle) is { Ticks: > 0 } rest)
            {
                await Task.Delay(rest);
            }
        }
        return new StalenessResult(detail.Samples(), list?.Samples(), committed, others);
    }

    /// <summary>One kind of read, polled until it shows a count.</summary>
    private sealed class Visibility(string read, Func<Task<int?>> readBooked)
    {
        private readonly List<double> _delaysMs = [];
        private int _gaveUp, _failedReads;

        public async Task TimeAsync(int committed, long confirmedAt)
        {
            while (true)
            {
                var sent = Stopwatch.GetTimestamp();
                var booked = await readBooked();
                if (booked >= committed)
                {
                    _delaysMs.Add(Stopwatch.GetElapsedTime(confirmedAt, sent).TotalMilliseconds);
                    return;
                }
                if (booked is null)
                {
                    _failedReads++;
                }
                if (Stopwatch.GetElapsedTime(confirmedAt) > GiveUpAfter)
                {
                    _gaveUp++;
                    return;
                }
                await Task.Delay(PollEvery);
            }
        }

        public StalenessSamples Samples() => new(read, _delaysMs, _gaveUp, _failedReads);
    }
}
