using Evently.Domain.Events;
using Evently.Domain.Idempotency;

namespace Evently.Domain.Bookings;

/// <summary>
/// Decides a batch of queued requests in order, against what the event (its row locked) has free, with the
/// direct path's rules; a request whose Idempotency-Key was used before, in the ledger or earlier in the batch,
/// gets that use's outcome instead.
/// </summary>
internal sealed class QueueDecision(
    Event? evt, Dictionary<long, Seat> seats, Dictionary<(long UserId, string Key), IdempotencyRecord> records,
    Dictionary<long, BookingRequest> firstRequests, DateTime now)
{
    private int _free = evt?.Available ?? 0;
    private readonly HashSet<long> _seatsTaken = [];
    private readonly Dictionary<(long UserId, string Key), QueuedAnswer> _firstInBatch = [];
    private readonly Dictionary<long, long> _twinOf = [];
    private readonly HashSet<long> _repeats = [];

    /// <summary>The requests confirmed by this batch, in order: they take the tickets.</summary>
    public List<QueuedAnswer> Confirmed { get; } = [];

    public QueuedAnswer Decide(QueuedRequest request)
    {
        var fingerprint = BookingRules.Fingerprint(request.Command);
        if (request.IdempotencyKey is { } key)
        {
            if (records.TryGetValue((request.UserId, key), out var record))
            {
                _repeats.Add(request.RequestId);
                return FromLedger(request, record, fingerprint);
            }
            if (_firstInBatch.TryGetValue((request.UserId, key), out var first))
            {
                _repeats.Add(request.RequestId);
                if (BookingRules.Fingerprint(first.Request.Command) != fingerprint)
                {
                    return Rejected(request, QueuedBookings.KeyReused);
                }
                _twinOf[request.RequestId] = first.Request.RequestId;
                return first with { Request = request };
            }
        }

        var reason = Refusal(request)
            ?? (!Capacity.Fits(request.Quantity, _free) ? "sold-out" : TryTakeSeats(request) ? null : "seat-taken");
        var answer = reason is null ? new QueuedAnswer(request, BookingRequestStatus.Confirmed, null, null) : Rejected(request, reason);
        if (reason is null)
        {
            _free -= request.Quantity;
            Confirmed.Add(answer);
        }
        if (request.IdempotencyKey is { } firstKey)
        {
            _firstInBatch[(request.UserId, firstKey)] = answer;
        }
        return answer;
    }

    /// <summary>Whether the answer repeats an earlier use of its key (it books nothing and notifies nobody).</summary>
    public bool IsRepeat(QueuedAnswer answer) => _repeats.Contains(answer.Request.RequestId);

    /// <summary>Whether this answer is its key's first use, which the ledger records.</summary>
    public bool RecordsKey(QueuedAnswer answer) => answer.Request.IdempotencyKey is not null && !IsRepeat(answer);

    /// <summary>The booking a confirmed answer stands for, once the batch's bookings are written.</summary>
    public long? BookingOf(QueuedAnswer answer, Dictionary<long, long> written) =>
        answer.Status != BookingRequestStatus.Confirmed || answer.BookingId is not null ? null
        : written.TryGetValue(_twinOf.GetValueOrDefault(answer.Request.RequestId, answer.Request.RequestId), out var id) ? id
        : null;

    private QueuedAnswer FromLedger(QueuedRequest request, IdempotencyRecord record, string fingerprint) =>
        record.Fingerprint != fingerprint ? Rejected(request, QueuedBookings.KeyReused)
        : record.Outcome == IdempotentOutcome.Booking ? new QueuedAnswer(request, BookingRequestStatus.Confirmed, record.OutcomeId, null)
        : record.Outcome == IdempotentOutcome.BookingRequest && firstRequests.TryGetValue(record.OutcomeId, out var first)
            ? new QueuedAnswer(request, first.Status, first.BookingId, first.Reason)
        : Rejected(request, QueuedBookings.KeyReused);

    private static QueuedAnswer Rejected(QueuedRequest request, string reason) =>
        new(request, BookingRequestStatus.Rejected, null, reason);

    // The direct path's rules (BookingRules.CheckEvent), in the words of the contract's rejection reasons.
    private string? Refusal(QueuedRequest request)
    {
        var chosen = (request.SeatIds ?? []).Where(seats.ContainsKey).Select(id => seats[id]);
        return BookingRules.CheckEvent(evt is null ? null : EventFacts.Of(evt, chosen), request.Command, now) switch
        {
            null => null,
            { Code: "event-started" } => "event-started",
            { Kind: Common.ErrorKind.NotFound } => "event-cancelled",
            // Seats that do not belong to the event (or none on a seated one): no seat the request asked for can be had.
            _ => "seat-taken"
        };
    }

    // Seats still available and not taken by an earlier request of the same batch.
    private bool TryTakeSeats(QueuedRequest request) =>
        request.SeatIds is not { } wanted
        || (wanted.All(id => seats[id].Status == SeatStatus.Available && !_seatsTaken.Contains(id)) && wanted.All(_seatsTaken.Add));
}
