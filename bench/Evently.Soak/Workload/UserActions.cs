using Evently.Soak.Client;

namespace Evently.Soak.Workload;

/// <summary>
/// What a registered user does, one action per call, each writing what the user was told to the ledger: direct
/// and seated bookings, seat changes, cancels, waitlist joins, claims (or offers left to expire), notifications.
/// An action works on a booking only after taking it out of the user's list, so no two actions race on one booking.
/// </summary>
internal sealed class UserActions(SoakHttp http, Ledger ledger, Catalog catalog)
{
    public async Task BookAsync(SoakUser user, Random random)
    {
        if (catalog.Pick(random, e => e.Kind == EventKind.Regular && (!e.SoldOut || random.Next(10) == 0)) is not { } evt)
        {
            return;
        }
        var key = user.NewKey("book");
        var answer = await http.SendAsync("book-direct", user.Http, HttpMethod.Post, "/api/bookings", user.Token,
            new { eventId = evt.Id, quantity = random.Next(1, 4) }, key);
        Told(user, answer, key, "direct", evt);
    }

    public async Task BookSeatsAsync(SoakUser user, Random random)
    {
        if (catalog.Pick(random, e => e.Kind == EventKind.Seated && !e.SoldOut) is not { } evt
            || await FreeSeatsAsync(user, evt) is not { Count: > 0 } free)
        {
            return;
        }
        var key = user.NewKey("seats");
        var seatIds = free.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToList();
        var answer = await http.SendAsync("book-seated", user.Http, HttpMethod.Post, "/api/bookings", user.Token,
            new { eventId = evt.Id, seatIds }, key);
        Told(user, answer, key, "seated", evt);
    }

    public async Task ChangeSeatsAsync(SoakUser user, Random random)
    {
        if (Take(user, random, b => b.Seated) is not { } booking)
        {
            return;
        }
        if (catalog.Events.TryGetValue(booking.EventId, out var evt) && await FreeSeatsAsync(user, evt) is { } free
            && free.Count >= booking.Quantity)
        {
            var seatIds = free.OrderBy(_ => random.Next()).Take(booking.Quantity).Order().ToList();
            var sentAt = DateTime.UtcNow;
            var answer = await http.SendAsync("change-seats", user.Http, HttpMethod.Post, $"/api/bookings/{booking.Id}/seats",
                user.Token, new { seatIds });
            ledger.SeatChanges.Enqueue(new SeatChangeTold(booking.Id, seatIds, sentAt, answer.Status, answer.GaveUp));
        }
        user.Bookings[booking.Id] = booking;
    }

    public async Task CancelAsync(SoakUser user, Random random)
    {
        if (Take(user, random, _ => true) is not { } booking)
        {
            return;
        }
        var answer = await http.SendAsync("cancel-booking", user.Http, HttpMethod.Delete, $"/api/bookings/{booking.Id}", user.Token);
        ledger.Cancels.Enqueue(new CancelTold(booking.Id, user.Id, answer.Status, answer.GaveUp));
        if (answer.Is(204) && catalog.Events.TryGetValue(booking.EventId, out var evt))
        {
            // Freed tickets go to the waitlist first; a later booking finds out whether any are left.
            evt.SoldOut = false;
        }
    }

    public async Task JoinWaitlistAsync(SoakUser user, Random random)
    {
        if (catalog.Pick(random, e => e.SoldOut) is not { } evt)
        {
            return;
        }
        var answer = await http.SendAsync("waitlist-join", user.Http, HttpMethod.Post, "/api/waitlist", user.Token,
            new { eventId = evt.Id, quantity = random.Next(1, 3) });
        if (answer.Status == 409 && answer.Code == "not-sold-out")
        {
            evt.SoldOut = false;
        }
    }

    /// <summary>Reads the user's line; claims most open offers and leaves the rest to expire (or gives one up now and then).</summary>
    public async Task AnswerOffersAsync(SoakUser user, Random random)
    {
        var entries = await http.SendAsync("waitlist-list", user.Http, HttpMethod.Get, "/api/waitlist?pageSize=100", user.Token);
        foreach (var entry in entries.Items().Where(e => e.GetProperty("status").GetString() == "offered"))
        {
            var id = entry.GetProperty("id").GetInt64();
            var roll = random.Next(10);
            if (roll < 6)
            {
                var key = user.NewKey("claim");
                var answer = await http.SendAsync("waitlist-claim", user.Http, HttpMethod.Post, $"/api/waitlist/{id}/claim", user.Token,
                    idempotencyKey: key);
                catalog.Events.TryGetValue(entry.GetProperty("eventId").GetInt64(), out var evt);
                Told(user, answer, key, "claim", evt);
            }
            else if (roll == 6)
            {
                await http.SendAsync("waitlist-leave", user.Http, HttpMethod.Delete, $"/api/waitlist/{id}", user.Token);
            }
        }
    }

    public Task ReadNotificationsAsync(SoakUser user) =>
        http.SendAsync("notifications", user.Http, HttpMethod.Get, "/api/notifications?pageSize=20", user.Token);

    /// <summary>Records a booking answer: a 201 is a booking the database must hold as told.</summary>
    public void Told(SoakUser user, Answer answer, string? key, string via, SoakEvent? evt)
    {
        if (answer.Is(201))
        {
            var told = new BookingTold(answer.Long("id"), user.Id, answer.Long("eventId"), (int)answer.Long("quantity"),
                answer.SeatIds(), key, via);
            ledger.Bookings.Enqueue(told);
            user.Bookings[told.BookingId] = new OwnBooking(told.BookingId, told.EventId, told.Quantity, told.Seats.Count > 0);
        }
        else if (answer.Status == 409 && answer.Code == "sold-out" && evt is not null)
        {
            evt.SoldOut = true;
        }
        if (key is not null)
        {
            ledger.Keys.Enqueue(new KeyTold(user.Id, key, answer.Status, answer.GaveUp,
                answer.Is(201) ? answer.OptionalLong("id") : null, answer.Is(202) ? answer.OptionalLong("requestId") : null));
        }
    }

    private async Task<List<long>?> FreeSeatsAsync(SoakUser user, SoakEvent evt)
    {
        var seats = await http.SendAsync("browse-seats", user.Http, HttpMethod.Get, $"/api/events/{evt.Id}/seats");
        if (!seats.Is(200))
        {
            return null;
        }
        var free = seats.Items().Where(s => s.GetProperty("status").GetString() == "available")
            .Select(s => s.GetProperty("id").GetInt64()).ToList();
        evt.SoldOut = free.Count == 0;
        return free;
    }

    private static OwnBooking? Take(SoakUser user, Random random, Func<OwnBooking, bool> where)
    {
        var candidates = user.Bookings.Values.Where(where).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }
        var booking = candidates[random.Next(candidates.Count)];
        return user.Bookings.TryRemove(booking.Id, out _) ? booking : null;
    }
}
