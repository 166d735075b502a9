using Evently.Soak.Client;

namespace Evently.Soak.Workload;

/// <summary>
/// The admin: keeps a few events of each kind on sale, raises the capacity of sold-out ones (tickets for the
/// waitlist), moves events or changes their venue (event-changed mail), and now and then cancels one with its
/// bookings and line (event-cancelled mail).
/// </summary>
internal sealed class Admin(SoakHttp http, Ledger ledger, Catalog catalog, HttpClient client, string token)
{
    private const int OpenRegular = 4;
    private const int OpenSeated = 2;
    private int _created;

    public async Task ActAsync(Random random)
    {
        if (catalog.Events.Values.Count(e => e.Kind == EventKind.Regular && !e.Cancelled && !e.SoldOut) < OpenRegular)
        {
            await CreateAsync(EventKind.Regular, random);
        }
        else if (catalog.Events.Values.Count(e => e.Kind == EventKind.Seated && !e.Cancelled && !e.SoldOut) < OpenSeated)
        {
            await CreateAsync(EventKind.Seated, random);
        }
        else
        {
            switch (random.Next(10))
            {
                case < 4:
                    await RaiseCapacityAsync(random);
                    break;
                case < 8:
                    await ChangeAsync(random);
                    break;
                default:
                    await CancelAsync(random);
                    break;
            }
        }
    }

    public async Task<SoakEvent?> CreateAsync(EventKind kind, Random random, int? capacity = null)
    {
        // The key goes into the name too, so the final check can count the events one key made.
        var key = $"soak-event-{Interlocked.Increment(ref _created)}";
        var name = $"Soak {kind} [{key}]";
        int? rows = kind == EventKind.Seated ? random.Next(2, 4) : null;
        var seats = rows * SoakEvent.Sections.Length * SoakEvent.SeatsPerRow;
        var size = seats ?? capacity ?? random.Next(20, 61);
        var startsAt = DateTimeOffset.UtcNow.AddDays(random.Next(10, 60)).AddMinutes(random.Next(1_000));
        var answer = await http.SendAsync("admin-create", client, HttpMethod.Post, "/api/events", token,
            SoakEvent.Body(name, "Soak Arena", startsAt, size, rows, kind == EventKind.OnSale), key);
        ledger.EventCreates.Enqueue(new EventCreateTold(key, answer.Status, answer.GaveUp, answer.Is(201) ? answer.Long("id") : null));
        if (!answer.Is(201))
        {
            return null;
        }
        var evt = new SoakEvent(answer.Long("id"), kind, name, startsAt, size, rows);
        catalog.Events[evt.Id] = evt;
        return evt;
    }

    private async Task RaiseCapacityAsync(Random random)
    {
        if (catalog.Pick(random, e => e.Kind != EventKind.Seated && e.SoldOut) is { } evt)
        {
            evt.Capacity += random.Next(1, 5);
            if ((await PutAsync(evt)).Is(200))
            {
                evt.SoldOut = false;
            }
        }
    }

    private async Task ChangeAsync(Random random)
    {
        if (catalog.Pick(random, _ => true) is { } evt)
        {
            if (random.Next(2) == 0)
            {
                evt.Venue = $"Soak Hall {random.Next(1, 9)}";
            }
            else
            {
                evt.StartsAt = evt.StartsAt.AddHours(1);
            }
            await PutAsync(evt);
        }
    }

    private async Task CancelAsync(Random random)
    {
        if (catalog.Pick(random, e => e.Kind != EventKind.OnSale) is { } evt)
        {
            evt.Cancelled = true;
            var answer = await http.SendAsync("admin-cancel", client, HttpMethod.Delete, $"/api/events/{evt.Id}", token);
            ledger.EventCancels.Enqueue(new EventCancelTold(evt.Id, answer.Status, answer.GaveUp));
        }
    }

    private Task<Answer> PutAsync(SoakEvent evt) =>
        http.SendAsync("admin-update", client, HttpMethod.Put, $"/api/events/{evt.Id}", token, evt.Body());
}
