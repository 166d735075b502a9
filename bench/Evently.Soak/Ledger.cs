using System.Collections.Concurrent;
using Evently.Soak.Client;

namespace Evently.Soak;

// What the clients were told, fact by fact: the final check compares each with the database.

/// <summary>A 201 with a booking: a direct or seated booking, a waitlist claim, or a queued request's confirmation.</summary>
internal sealed record BookingTold(long BookingId, long UserId, long EventId, int Quantity, IReadOnlyList<long> Seats, string? Key, string Via);

/// <summary>The answer to a cancel of a booking: 204, another status, or none (the client gave up).</summary>
internal sealed record CancelTold(long BookingId, long UserId, int Status, bool GaveUp);

/// <summary>A seat change as sent (in order, per booking) and what it was answered.</summary>
internal sealed record SeatChangeTold(long BookingId, IReadOnlyList<long> Seats, DateTime SentAt, int Status, bool GaveUp);

/// <summary>A 202: a queued request, and every final answer its owner read for it (exactly one distinct answer is expected).</summary>
internal sealed record QueuedTold(long RequestId, long UserId, long EventId, int Quantity, string Key)
{
    public ConcurrentQueue<(string Status, long? BookingId, string? Reason)> Answers { get; } = new();
}

/// <summary>
/// The final answer to a request that carried an Idempotency-Key (the client sends each key until it gets an
/// answer, so one per key): the booking (201) or the request (202) it named, or a refusal, or none (gave up).
/// </summary>
internal sealed record KeyTold(long UserId, string Key, int Status, bool GaveUp, long? BookingId, long? RequestId);

internal sealed record EventCancelTold(long EventId, int Status, bool GaveUp);

/// <summary>An admin's create, whose Idempotency-Key is written into the event's name so the database can be asked.</summary>
internal sealed record EventCreateTold(string Key, int Status, bool GaveUp, long? EventId);

/// <summary>A 5xx answer other than 502/503/504: always a bug.</summary>
internal sealed record ServerErrorTold(DateTime At, string Kind, string Request, int Status, string Body);

internal sealed class Ledger
{
    private readonly ConcurrentDictionary<(string Kind, string Answer), int> _answers = new();
    private readonly ConcurrentDictionary<(string Kind, int Status), int> _retries = new();

    /// <summary>Each 502/503/504: when it was answered, and when its attempt was sent.</summary>
    public ConcurrentQueue<(DateTime At, DateTime SentAt, string Kind, int Status)> Unavailable { get; } = new();

    /// <summary>When each logical request got its final answer.</summary>
    public ConcurrentQueue<DateTime> AnsweredAt { get; } = new();

    /// <summary>When each repeat was decided: what shows that a fault hit requests in flight.</summary>
    public ConcurrentQueue<DateTime> RetriedAt { get; } = new();
    public ConcurrentQueue<ServerErrorTold> ServerErrors { get; } = new();
    public ConcurrentQueue<BookingTold> Bookings { get; } = new();
    public ConcurrentQueue<CancelTold> Cancels { get; } = new();
    public ConcurrentQueue<SeatChangeTold> SeatChanges { get; } = new();
    public ConcurrentDictionary<long, QueuedTold> Queued { get; } = new();
    public ConcurrentQueue<KeyTold> Keys { get; } = new();
    public ConcurrentQueue<EventCancelTold> EventCancels { get; } = new();
    public ConcurrentQueue<EventCreateTold> EventCreates { get; } = new();

    /// <summary>Final answers of logical requests, by kind and answer (a status, or <c>gave up</c>).</summary>
    public IReadOnlyDictionary<(string Kind, string Answer), int> Answers => _answers;

    /// <summary>Repeats, by kind and the status (0: no response) that made the client repeat.</summary>
    public IReadOnlyDictionary<(string Kind, int Status), int> Retries => _retries;

    public void RecordAttempt(string kind, HttpMethod method, string path, DateTime sentAt, int status, string body)
    {
        if (status is 502 or 503 or 504)
        {
            Unavailable.Enqueue((DateTime.UtcNow, sentAt, kind, status));
        }
        else if (status >= 500)
        {
            ServerErrors.Enqueue(new ServerErrorTold(DateTime.UtcNow, kind, $"{method} {path}", status, body.Length > 400 ? body[..400] : body));
        }
    }

    public void RecordAnswer(string kind, Answer answer)
    {
        AnsweredAt.Enqueue(DateTime.UtcNow);
        _answers.AddOrUpdate((kind, answer.GaveUp ? "gave up" : answer.Status == Answer.NoResponse ? "no response" : answer.Status.ToString()),
            1, (_, n) => n + 1);
    }

    public void RecordRetry(string kind, int status)
    {
        _retries.AddOrUpdate((kind, status), 1, (_, n) => n + 1);
        RetriedAt.Enqueue(DateTime.UtcNow);
    }

    public int TotalRequests => _answers.Values.Sum();
    public int TotalRetries => _retries.Values.Sum();
}
