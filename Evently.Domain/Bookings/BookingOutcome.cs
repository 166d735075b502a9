namespace Evently.Domain.Bookings;

/// <summary>
/// What a booking request got: a confirmed booking (201), or a request in a high-demand event's queue (202). A
/// repeat of an Idempotency-Key answers with its first request's outcome, whichever path serves the repeat.
/// </summary>
public sealed record BookingOutcome
{
    private BookingOutcome(Booking? booking, QueuedRequestState? request) => (Booking, Request) = (booking, request);

    public Booking? Booking { get; }
    public QueuedRequestState? Request { get; }

    public static BookingOutcome Booked(Booking booking) => new(booking, null);

    public static BookingOutcome Queued(QueuedRequestState request) => new(null, request);
}
