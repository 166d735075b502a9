using Evently.Soak.Faults;
using static Evently.Soak.Checks.DatabaseSnapshot;

namespace Evently.Soak.Checks;

/// <summary>One invariant's verdict, with the rows that break it (the first few) as evidence.</summary>
internal sealed record Verdict(string Name, bool Passed, string Summary, IReadOnlyList<string> Evidence);

/// <summary>
/// Every invariant of the soak, in one place: what the clients were told (the ledger) against the database, the
/// mail server and the faults. Each check is one method that returns a <see cref="Verdict"/>; to add one, add a
/// method and a line in <see cref="Check"/>.
/// </summary>
internal sealed class Invariants(Ledger ledger, DatabaseSnapshot db, IReadOnlyDictionary<long, int> mails, IReadOnlyList<Fault> faults, DateTime warmUpEnds)
{
    /// <summary>How long after a fault's first success a 503 still counts as caused by it (retries and breakers in flight).</summary>
    public static readonly TimeSpan FaultGrace = TimeSpan.FromSeconds(10);

    // MailQueue's lease exactly (the two minutes a mail sender holds the mails it took; the soak does not reference the
    // domain), how long after taking a batch its sender can still be sending it, and the lease with that margin.
    private static readonly TimeSpan SenderLease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan KillWhileSending = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MailLease = SenderLease + KillWhileSending;

    private readonly Dictionary<long, BookingRow> _bookings = db.Bookings.ToDictionary(b => b.Id);
    private readonly ILookup<long, long> _activeSeats = db.BookingSeats.Where(s => s.Active).ToLookup(s => s.BookingId, s => s.SeatId);

    public IReadOnlyList<Verdict> Check() =>
    [
        NoTicketSoldTwiceOrOverCapacity(),
        BookedEqualsConfirmedQuantities(),
        HeldEqualsOpenOffers(),
        EveryCreatedBookingExistsAsTold(),
        EveryCancelIsCancelled(),
        EverySeatChangeHolds(),
        EveryQueuedRequestAnsweredOnce(),
        EachKeyMadeAtMostOneBooking(),
        EachEventKeyMadeAtMostOneEvent(),
        EveryNotificationMailedOnce(),
        EveryOutboxRowRelayed(),
        NoServerErrors(),
        UnavailableOnlyDuringFaults()
    ];

    private Verdict NoTicketSoldTwiceOrOverCapacity()
    {
        var bad = new List<string>();
        bad.AddRange(db.Events.Where(e => e.Booked < 0 || e.Held < 0 || e.Booked + e.Held > e.Capacity)
            .Select(e => $"event {e.Id}: booked {e.Booked} + held {e.Held} > capacity {e.Capacity}"));
        var confirmedSeats = db.BookingSeats.Where(s => s.Active && IsConfirmed(s.BookingId)).ToList();
        bad.AddRange(confirmedSeats.GroupBy(s => s.SeatId).Where(g => g.Count() > 1)
            .Select(g => $"seat {g.Key} held by bookings {string.Join(", ", g.Select(s => s.BookingId))}"));
        bad.AddRange(db.BookingSeats.Where(s => s.Active && !IsConfirmed(s.BookingId))
            .Select(s => $"seat {s.SeatId} still active for booking {s.BookingId}, which is not confirmed"));
        var held = confirmedSeats.Select(s => s.SeatId).ToHashSet();
        bad.AddRange(db.Seats.Where(s => Is(s.Status, "Booked") != held.Contains(s.Id))
            .Select(s => $"seat {s.Id} of event {s.EventId} is '{s.Status}' but {(held.Contains(s.Id) ? "a" : "no")} confirmed booking holds it"));
        var seatsPerEvent = confirmedSeats.GroupBy(s => _bookings[s.BookingId].EventId).ToDictionary(g => g.Key, g => g.Count());
        bad.AddRange(db.Events.Where(e => e.HasSeating && e.Booked != seatsPerEvent.GetValueOrDefault(e.Id))
            .Select(e => $"seated event {e.Id}: booked {e.Booked}, seats of confirmed bookings {seatsPerEvent.GetValueOrDefault(e.Id)}"));
        return Judge("no ticket sold twice or over capacity", bad, $"{db.Events.Count} events, {db.Seats.Count} seats");
    }

    private Verdict BookedEqualsConfirmedQuantities()
    {
        var confirmed = db.Bookings.Where(b => Is(b.Status, "Confirmed")).GroupBy(b => b.EventId).ToDictionary(g => g.Key, g => g.Sum(b => b.Quantity));
        var bad = db.Events.Where(e => e.Booked != confirmed.GetValueOrDefault(e.Id))
            .Select(e => $"event {e.Id}: booked {e.Booked}, confirmed bookings hold {confirmed.GetValueOrDefault(e.Id)}").ToList();
        return Judge("booked equals the confirmed quantities", bad, $"{confirmed.Values.Sum()} tickets confirmed");
    }

    private Verdict HeldEqualsOpenOffers()
    {
        var offers = db.Entries.Where(w => Is(w.Status, "Offered")).ToList();
        var offered = offers.GroupBy(w => w.EventId).ToDictionary(g => g.Key, g => g.Sum(w => w.Quantity));
        var bad = db.Events.Where(e => e.Held != offered.GetValueOrDefault(e.Id))
            .Select(e => $"event {e.Id} ({e.Status}): held {e.Held}, open offers hold {offered.GetValueOrDefault(e.Id)}").ToList();
        var heldSeats = offers.SelectMany(w => (w.HeldSeatIds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse)).ToHashSet();
        bad.AddRange(db.Seats.Where(s => Is(s.Status, "Held") != heldSeats.Contains(s.Id))
            .Select(s => $"seat {s.Id} of event {s.EventId} is '{s.Status}' but {(heldSeats.Contains(s.Id) ? "an" : "no")} open offer holds it"));
        return Judge("held equals the tickets of open offers", bad,
            $"{offers.Count} open offers, {db.Entries.Count(w => Is(w.Status, "Expired"))} expired, {db.Entries.Count(w => Is(w.Status, "Booked"))} claimed");
    }

    private Verdict EveryCreatedBookingExistsAsTold()
    {
        var cancelAsked = ledger.Cancels.Select(c => c.BookingId).ToHashSet();
        var eventsCancelled = ledger.EventCancels.Select(c => c.EventId).ToHashSet();
        var changed = ledger.SeatChanges.Where(c => c.Status == 200 || c.GaveUp).Select(c => c.BookingId).ToHashSet();
        var bad = new List<string>();
        foreach (var told in ledger.Bookings)
        {
            if (!_bookings.TryGetValue(told.BookingId, out var row))
            {
                bad.Add($"{told.Via} booking {told.BookingId} (user {told.UserId}, key {told.Key}) does not exist");
            }
            else if (row.UserId != told.UserId || row.EventId != told.EventId || row.Quantity != told.Quantity)
            {
                bad.Add($"{told.Via} booking {told.BookingId}: told user {told.UserId} event {told.EventId} x{told.Quantity}, "
                    + $"stored user {row.UserId} event {row.EventId} x{row.Quantity}");
            }
            else if (Is(row.Status, "Cancelled") && !cancelAsked.Contains(row.Id) && !eventsCancelled.Contains(row.EventId))
            {
                bad.Add($"{told.Via} booking {told.BookingId} is cancelled, but nobody cancelled it or its event");
            }
            else if (told.Seats.Count > 0 && Is(row.Status, "Confirmed") && !changed.Contains(row.Id)
                && !told.Seats.Order().SequenceEqual(_activeSeats[row.Id].Order()))
            {
                bad.Add($"{told.Via} booking {told.BookingId}: told seats {string.Join(",", told.Seats)}, holds {string.Join(",", _activeSeats[row.Id].Order())}");
            }
        }
        return Judge("every 201 booking exists as told", bad,
            string.Join(", ", ledger.Bookings.CountBy(b => b.Via).Select(c => $"{c.Value} {c.Key}")));
    }

    private Verdict EveryCancelIsCancelled()
    {
        var told = ledger.Cancels.Where(c => c.Status == 204 && !c.GaveUp).ToList();
        var bad = told.Where(c => !_bookings.TryGetValue(c.BookingId, out var row) || !Is(row.Status, "Cancelled"))
            .Select(c => $"booking {c.BookingId}: 204, but it is {(_bookings.TryGetValue(c.BookingId, out var row) ? row.Status : "missing")}").ToList();
        return Judge("every 204 cancel is cancelled", bad, $"{told.Count} cancels answered 204");
    }

    private Verdict EverySeatChangeHolds()
    {
        var bad = new List<string>();
        var checkedCount = 0;
        foreach (var changes in ledger.SeatChanges.GroupBy(c => c.BookingId))
        {
            var ordered = changes.OrderBy(c => c.SentAt).ToList();
            var last = ordered.FindLastIndex(c => c.Status == 200 && !c.GaveUp);
            // A later change whose answer never came may have moved the seats again; a cancel gives them back.
            if (last < 0 || ordered.Skip(last + 1).Any(c => c.GaveUp)
                || !_bookings.TryGetValue(changes.Key, out var row) || !Is(row.Status, "Confirmed"))
            {
                continue;
            }
            checkedCount++;
            if (!ordered[last].Seats.Order().SequenceEqual(_activeSeats[row.Id].Order()))
            {
                bad.Add($"booking {row.Id}: its last 200 set seats {string.Join(",", ordered[last].Seats)}, it holds {string.Join(",", _activeSeats[row.Id].Order())}");
            }
        }
        return Judge("every 200 seat change holds", bad, $"{ledger.SeatChanges.Count(c => c.Status == 200)} changes answered 200, {checkedCount} bookings checked");
    }

    private Verdict EveryQueuedRequestAnsweredOnce()
    {
        var requests = db.Requests.ToDictionary(r => r.Id);
        var bad = new List<string>();
        foreach (var told in ledger.Queued.Values)
        {
            var seen = told.Answers.Distinct().ToList();
            if (!requests.TryGetValue(told.RequestId, out var row))
            {
                bad.Add($"request {told.RequestId} (user {told.UserId}, event {told.EventId}, key {told.Key}): 202, never answered in the database");
            }
            else if (Is(row.Status, "Queued"))
            {
                bad.Add($"request {told.RequestId}: still queued");
            }
            else if (seen.Count > 1)
            {
                bad.Add($"request {told.RequestId}: answered {string.Join(" then ", seen.Select(a => $"{a.Status} {a.BookingId}{a.Reason}"))}");
            }
            else if (seen is [var answer] && (!Is(row.Status, answer.Status) || row.BookingId != answer.BookingId))
            {
                bad.Add($"request {told.RequestId}: its owner read {answer.Status} {answer.BookingId}, the database says {row.Status} {row.BookingId}");
            }
            else if (row.UserId != told.UserId || row.EventId != told.EventId || row.Quantity != told.Quantity)
            {
                bad.Add($"request {told.RequestId}: told user {told.UserId} event {told.EventId} x{told.Quantity}, stored {row.UserId} {row.EventId} x{row.Quantity}");
            }
            else if (Is(row.Status, "Confirmed") && (row.BookingId is not { } id || !_bookings.TryGetValue(id, out var booking)
                || booking.UserId != row.UserId || booking.EventId != row.EventId || booking.Quantity != row.Quantity))
            {
                bad.Add($"request {told.RequestId}: confirmed, but booking {row.BookingId} is missing or another's");
            }
        }
        // Once in the database, once to its owner: one booking-confirmed or booking-rejected notification per answer.
        var answered = db.Requests.Where(r => !Is(r.Status, "Queued")).CountBy(r => (r.UserId, r.EventId, Kind: Is(r.Status, "Confirmed") ? "booking-confirmed" : "booking-rejected")).ToDictionary();
        var notified = db.Notifications.Where(n => n.Kind is "booking-confirmed" or "booking-rejected" && n.EventId is not null)
            .CountBy(n => (n.UserId, EventId: n.EventId!.Value, n.Kind)).ToDictionary();
        bad.AddRange(answered.Keys.Union(notified.Keys).Where(k => answered.GetValueOrDefault(k) != notified.GetValueOrDefault(k))
            .Select(k => $"user {k.UserId}, event {k.EventId}: {answered.GetValueOrDefault(k)} requests answered {k.Kind}, {notified.GetValueOrDefault(k)} notifications"));
        return Judge("every 202 answered exactly once, as the database says", bad,
            $"{ledger.Queued.Count} requests: {db.Requests.Count(r => Is(r.Status, "Confirmed"))} confirmed, {db.Requests.Count(r => Is(r.Status, "Rejected"))} rejected");
    }

    private Verdict EachKeyMadeAtMostOneBooking()
    {
        var bad = new List<string>();
        var made = db.Bookings.Where(b => b.Key is not null).Select(b => (b.UserId, Key: b.Key!, b.Id))
            .Concat(db.Requests.Where(r => r.Key is not null && r.BookingId is not null).Select(r => (r.UserId, Key: r.Key!, Id: r.BookingId!.Value)))
            .Distinct().ToList();
        bad.AddRange(made.GroupBy(m => (m.UserId, m.Key)).Where(g => g.Count() > 1)
            .Select(g => $"user {g.Key.UserId}, key {g.Key.Key}: bookings {string.Join(", ", g.Select(m => m.Id))}"));

        // And what the key's answer said: the booking or request it made, never a refusal of something that was made.
        var told = ledger.Keys.Where(k => !k.GaveUp).ToLookup(k => (k.UserId, k.Key));
        var requestBookings = db.Requests.Where(r => r.BookingId is not null).ToDictionary(r => r.Id, r => r.BookingId);
        foreach (var booking in db.Bookings.Where(b => b.Key is not null && told.Contains((b.UserId, b.Key!))))
        {
            // A queued booking that carries its key is named by its request.
            bad.AddRange(told[(booking.UserId, booking.Key!)]
                .Where(k => !(k.Status == 201 && k.BookingId == booking.Id)
                    && !(k.Status == 202 && k.RequestId is { } id && requestBookings.GetValueOrDefault(id) == booking.Id))
                .Select(k => $"user {booking.UserId}, key {booking.Key}: made booking {booking.Id}, the client was told {k.Status} {k.BookingId}"));
        }
        foreach (var request in db.Requests.Where(r => r.Key is not null && told.Contains((r.UserId, r.Key!))))
        {
            bad.AddRange(told[(request.UserId, request.Key!)].Where(k => k.Status != 202 || k.RequestId != request.Id)
                .Select(k => $"user {request.UserId}, key {request.Key}: queued request {request.Id}, the client was told {k.Status} {k.RequestId}"));
        }
        return Judge("each Idempotency-Key made at most one booking, and its answer named it", bad,
            $"{ledger.Keys.Count} keys answered, {ledger.Keys.Count(k => k.GaveUp)} given up");
    }

    private Verdict EachEventKeyMadeAtMostOneEvent()
    {
        var bad = ledger.EventCreates.Select(c => c.Key).Distinct()
            .Select(key => (key, events: db.Events.Where(e => e.Name.EndsWith($"[{key}]", StringComparison.Ordinal)).Select(e => e.Id).ToList()))
            .Where(k => k.events.Count > 1)
            .Select(k => $"key {k.key}: events {string.Join(", ", k.events)}").ToList();
        return Judge("each admin create key made at most one event (v1.1)", bad, $"{ledger.EventCreates.Count} creates");
    }

    /// <remarks>
    /// A worker killed between handing a mail to the server and recording it leaves the mail to its lease, and the
    /// retry sends it again with the same Message-Id (at least once, by design: SMTP has no way to ask whether a mail
    /// arrived). Such a copy passes when a worker kill started within <see cref="KillWhileSending"/> after the lease
    /// it was sent under; any other copy fails.
    /// </remarks>
    private Verdict EveryNotificationMailedOnce()
    {
        var bad = new List<string>();
        var resent = 0;
        foreach (var n in db.Notifications)
        {
            var count = mails.GetValueOrDefault(n.Id);
            var leasedAt = n.NextAttemptAt - SenderLease;
            if (n.FailedAt is not null)
            {
                bad.Add($"notification {n.Id} ({n.Kind}): given up (EmailFailedAt {n.FailedAt:HH:mm:ss.fff})");
            }
            else if (n.EmailedAt is not null && count == 2 && WorkerKilledAfter(leasedAt - SenderLease, retakenWithin: KillWhileSending))
            {
                resent++;
            }
            else if (n.EmailedAt is not null && count != 1)
            {
                bad.Add($"notification {n.Id} ({n.Kind}, user {n.UserId}): emailed, {count} mails received");
            }
            else if (n.EmailedAt is null && count == 1 && WorkerKilledAfter(leasedAt))
            {
                resent++;
            }
            else if (n.EmailedAt is null && count > 0)
            {
                // Sent but not recorded as sent: the next attempt sends it again.
                bad.Add($"notification {n.Id} ({n.Kind}, user {n.UserId}): pending, next attempt {n.NextAttemptAt:HH:mm:ss.fff}, "
                    + $"but {count} mail{(count > 1 ? "s" : "")} already received");
            }
            else if (n.EmailedAt is null && n.NextAttemptAt is { } next && next > db.ReadAt + MailLease)
            {
                bad.Add($"notification {n.Id} ({n.Kind}): pending, its next attempt ({next:HH:mm:ss}) is not due");
            }
        }
        var known = db.Notifications.Select(n => n.Id).ToHashSet();
        bad.AddRange(mails.Where(m => !known.Contains(m.Key)).Select(m => $"{m.Value} mails of no notification (id {m.Key})"));
        var pending = db.Notifications.Count(n => n.EmailedAt is null && n.FailedAt is null);
        return Judge("every notification mailed exactly once, or pending with a due retry", bad,
            $"{db.Notifications.Count} notifications, {mails.Values.Sum()} received by mail, {pending} pending"
            + (resent > 0 ? $"; {resent} sent by a worker killed before it recorded them, so sent again (same Message-Id)" : ""));
    }

    // A worker killed while it sent what it took under a lease that started then. For a copy sent again already, the
    // lease recorded is the re-take's, one lease after the killed sender's and possibly a sleep more.
    private bool WorkerKilledAfter(DateTime? leasedAt, TimeSpan? retakenWithin = null) =>
        leasedAt is { } at && faults.Any(f => f.Kind == FaultKind.KillWorker
            && f.StartedAt >= at - TimeSpan.FromSeconds(1) - (retakenWithin ?? TimeSpan.Zero) && f.StartedAt <= at + KillWhileSending);

    private Verdict EveryOutboxRowRelayed() =>
        Judge("every outbox row relayed", db.UnrelayedOutbox == 0 ? [] : [$"{db.UnrelayedOutbox} outbox rows never processed"], "");

    private Verdict NoServerErrors() =>
        Judge("no 500 answers", ledger.ServerErrors.Select(e => $"{e.At:HH:mm:ss.fff} {e.Kind} {e.Request} -> {e.Status}: {e.Body}").ToList(),
            $"{ledger.ServerErrors.Count} answers 500 or another 5xx than 502/503/504");

    private Verdict UnavailableOnlyDuringFaults()
    {
        var windows = faults.Select(f => f.Window(FaultGrace)).ToList();
        // A fault's 503 is answered during it; a cold app's may come a deadline after its request, sent in the warm-up.
        var warmUp = ledger.Unavailable.Count(u => u.SentAt < warmUpEnds && !windows.Any(w => u.At >= w.From && u.At <= w.To));
        var outside = ledger.Unavailable.Where(u => u.SentAt >= warmUpEnds && !windows.Any(w => u.At >= w.From && u.At <= w.To)).ToList();
        return Judge("503s only while a fault was active", outside.Select(u => $"{u.At:HH:mm:ss.fff} {u.Kind} -> {u.Status}").ToList(),
            $"{ledger.Unavailable.Count} answers 502/503/504, {ledger.Unavailable.Count - outside.Count - warmUp} during faults, "
            + $"{warmUp} sent in the first 10 s (warm-up), {outside.Count} outside");
    }

    private bool IsConfirmed(long bookingId) => _bookings.TryGetValue(bookingId, out var b) && Is(b.Status, "Confirmed");

    private static Verdict Judge(string name, List<string> bad, string summary) => new(name, bad.Count == 0, summary, bad.Take(12).ToList());
}
