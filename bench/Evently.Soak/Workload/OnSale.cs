using Evently.Soak.Client;
using Evently.Soak.Faults;

namespace Evently.Soak.Workload;

/// <summary>
/// A high-demand on-sale: the admin opens an event with fewer tickets than asked for, every user asks for one to
/// three at once (202, queued), then each polls its request until the worker answers, as a waiting page would.
/// </summary>
internal sealed class OnSale(SoakHttp http, Ledger ledger, Catalog catalog, UserActions actions, Admin admin, OnSaleSignal signal)
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PollFor = TimeSpan.FromSeconds(90);

    public async Task RunAsync(Random random)
    {
        // About half the tickets asked for: the rest are rejected (sold-out), and the event gets a waitlist.
        var capacity = catalog.Users.Count;
        if (await admin.CreateAsync(EventKind.OnSale, random, capacity) is not { } evt)
        {
            return;
        }
        Console.WriteLine($"  [{DateTime.UtcNow:HH:mm:ss}] on-sale of event {evt.Id}: {catalog.Users.Count} buyers for {capacity} tickets");
        var quantities = catalog.Users.Select(_ => random.Next(1, 4)).ToList();
        signal.Started();
        await Task.WhenAll(catalog.Users.Select((user, i) => BuyAsync(user, evt, quantities[i])));
    }

    private async Task BuyAsync(SoakUser user, SoakEvent evt, int quantity)
    {
        var key = user.NewKey("onsale");
        var answer = await http.SendAsync("book-queued", user.Http, HttpMethod.Post, "/api/bookings", user.Token,
            new { eventId = evt.Id, quantity }, key);
        actions.Told(user, answer, key, "queued", evt);
        if (!answer.Is(202))
        {
            return;
        }
        var told = new QueuedTold(answer.Long("requestId"), user.Id, evt.Id, quantity, key);
        // A repeat of the same key names the same request: keep the first.
        told = ledger.Queued.GetOrAdd(told.RequestId, told);

        var deadline = DateTime.UtcNow + PollFor;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(PollEvery * (0.5 + Random.Shared.NextDouble()));
            var poll = await http.SendAsync("poll-request", user.Http, HttpMethod.Get, $"/api/bookings/requests/{told.RequestId}", user.Token);
            var status = poll.Is(200) ? poll.Text("status") : null;
            if (status is null or "queued")
            {
                continue;
            }
            told.Answers.Enqueue((status, poll.OptionalLong("bookingId"), poll.Text("reason")));
            if (status == "confirmed" && poll.OptionalLong("bookingId") is { } bookingId)
            {
                ledger.Bookings.Enqueue(new BookingTold(bookingId, user.Id, evt.Id, quantity, [], key, "queued"));
                user.Bookings[bookingId] = new OwnBooking(bookingId, evt.Id, quantity, Seated: false);
            }
            else if (poll.Text("reason") == "sold-out")
            {
                evt.SoldOut = true;
            }
            return;
        }
    }
}
