using System.Globalization;

namespace Evently.Domain.Bookings;

/// <summary>A request's answer as the worker announces it.</summary>
public sealed record AnnouncedAnswer(long RequestId, BookingRequestStatus Status, long? BookingId, string? Reason);

/// <summary>
/// What the worker publishes on an event's answers channel (<see cref="QueueKeys.AnswersChannel"/>), written by its
/// scripts: each batch's answers as it acknowledges them (<c>answers &lt;highest seq answered&gt;</c>, then a line
/// <c>&lt;request id&gt; confirmed &lt;booking id&gt;</c> or <c>&lt;request id&gt; rejected &lt;reason&gt;</c> per answer), and at
/// the opening every place drawn (<c>placed</c>, then <c>&lt;request id&gt; &lt;seq&gt;</c> per request). The API's request
/// streams take their answer or place from here rather than each reading Redis; pub/sub may lose a message, which
/// costs the streams concerned one read.
/// </summary>
public sealed record QueueAnnouncement(IReadOnlyList<(long RequestId, long Sequence)> Placed, IReadOnlyList<AnnouncedAnswer> Answers)
{
    private static readonly QueueAnnouncement Nothing = new([], []);

    /// <summary>The message's places and answers; nothing for a message of another shape (an older worker's).</summary>
    public static QueueAnnouncement Parse(string? message)
    {
        var lines = message?.Split('\n') ?? [];
        switch (lines.FirstOrDefault()?.Split(' ')[0])
        {
            case "placed":
                var placed = new List<(long, long)>(lines.Length - 1);
                foreach (var line in lines.Skip(1))
                {
                    var parts = line.Split(' ');
                    if (parts.Length == 2 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var id)
                        && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var seq))
                    {
                        placed.Add((id, seq));
                    }
                }
                return new QueueAnnouncement(placed, []);
            case "answers":
                var answers = new List<AnnouncedAnswer>(lines.Length - 1);
                foreach (var line in lines.Skip(1))
                {
                    var parts = line.Split(' ', 3);
                    if (parts.Length == 3 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var id))
                    {
                        answers.Add(parts[1] == "confirmed" && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var booking)
                            ? new AnnouncedAnswer(id, BookingRequestStatus.Confirmed, booking, null)
                            : new AnnouncedAnswer(id, BookingRequestStatus.Rejected, null, parts[2]));
                    }
                }
                return new QueueAnnouncement([], answers);
            default:
                return Nothing;
        }
    }
}
