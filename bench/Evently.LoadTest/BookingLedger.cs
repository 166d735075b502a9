namespace Evently.LoadTest;

/// <summary>The bookings the benchmark made, per event index, warm-ups included: what the API must agree with.</summary>
internal sealed class BookingLedger(int events)
{
    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(1.5);
    private readonly int[] _confirmed = new int[events];
    // Requests that got no answer: the server may or may not have booked them.
    private readonly int[] _unanswered = new int[events];

    /// <summary>A booking of the event the benchmark made and cancelled again (its cancel answered 204).</summary>
    public void Cancelled(int eventIndex) => Interlocked.Decrement(ref _confirmed[eventIndex]);

    public void Record(int eventIndex, int status)
    {
        if (status == 201)
        {
            Interlocked.Increment(ref _confirmed[eventIndex]);
        }
        else if (status == EventlyApi.NoResponse)
        {
            Interlocked.Increment(ref _unanswered[eventIndex]);
        }
    }

    public async Task<InvariantReport> VerifyAsync(EventlyApi api, IReadOnlyList<EventResponse> events)
    {
        // API.md lets the counts in event reads lag bookings by up to 1 s: wait that out before comparing.
        await Task.Delay(SettleTime);
        var current = new EventResponse[events.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, events.Count), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, _) => current[i] = await api.GetEventAsync(events[i].Id));

        var oversold = current.Count(e => e.Booked > e.Capacity);
        var mismatched = Enumerable.Range(0, events.Count)
            .Count(i => current[i].Booked < _confirmed[i] || current[i].Booked > _confirmed[i] + _unanswered[i]);
        return new(events.Count, oversold, mismatched, current.Sum(e => (long)e.Booked), _confirmed.Sum(c => (long)c),
            _unanswered.Sum(c => (long)c));
    }
}

internal sealed record InvariantReport(
    int Events, int Oversold, int Mismatched, long TotalBooked, long TotalConfirmed, long TotalUnanswered)
{
    public bool TotalsAgree => TotalBooked >= TotalConfirmed && TotalBooked <= TotalConfirmed + TotalUnanswered;
    public bool Holds => Oversold == 0 && Mismatched == 0 && TotalsAgree;
}
