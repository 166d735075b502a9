namespace Evently.Domain.Events;

/// <summary>
/// The one capacity rule: <c>q</c> more tickets may be taken (booked, or held for a waitlist offer) while
/// <c>Booked + Held + q &lt;= Capacity</c>. Writers check it in the conditional write that takes the tickets
/// (<see cref="CanTakeSql"/>: an UPDATE of the event row, or a batch's INSERT of its bookings), which InnoDB evaluates
/// under the event row's lock; code that already holds that
/// lock and has read the row counts what is free with <see cref="Free"/>. The CHECK constraint on events refuses
/// whatever breaks it anyway.
/// </summary>
public static class Capacity
{
    /// <summary>The rule as SQL, for a statement on the events table with the tickets wanted as <c>@tickets</c>.</summary>
    public const string CanTakeSql = "Booked + Held + @tickets <= Capacity";

    /// <summary>Whether an event takes bookings at <c>@now</c>: scheduled and not started.</summary>
    public const string OpenSql = "Status = 'Scheduled' AND StartsAt > @now";

    /// <summary>
    /// Takes <c>@tickets</c> for <c>@count</c> new bookings of event <c>@eventId</c>, if it is open at <c>@now</c> and
    /// they fit: one row changed, or none (sold out, cancelled or started: the caller reads which). Also counts the
    /// bookings for the analytics and bumps the row's version.
    /// </summary>
    public const string TakeForBookingsSql = $"""
        UPDATE events SET Booked = Booked + @tickets, BookingsMade = BookingsMade + @count, Version = Version + 1
          WHERE Id = @eventId AND {OpenSql} AND {CanTakeSql}
        """;

    /// <summary>
    /// <see cref="TakeForBookingsSql"/> for a booking made directly: never of a high-demand event, whose bookings only its
    /// queue makes, whatever the caller's cached facts said (an admin's change on another replica may not have reached it).
    /// </summary>
    public const string TakeForDirectBookingsSql = TakeForBookingsSql + " AND " + DirectSql;

    /// <summary>
    /// Whether an event takes bookings made directly at <c>@now</c>: not high-demand (its queue makes those), and its sale
    /// open. Checked in the write, whatever the caller's cached facts said (an admin's change may not have reached them).
    /// </summary>
    public const string DirectSql = "NOT HighDemand AND (SalesStartAt IS NULL OR SalesStartAt <= @now)";

    /// <summary>Tickets taken: booked, or held for offers. A capacity may not fall below it.</summary>
    public static int Taken(int booked, int held) => booked + held;

    /// <summary>How many more tickets may be taken.</summary>
    public static int Free(int capacity, int booked, int held) => Math.Max(0, capacity - Taken(booked, held));

    /// <summary>Whether the tickets fit what is free.</summary>
    public static bool Fits(int tickets, int free) => tickets <= free;
}
