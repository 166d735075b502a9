using Evently.Soak.Client;

namespace Evently.Soak.Workload;

/// <summary>An anonymous visitor: lists, searches, opens events and their seat maps, as a browser would (cached reads included).</summary>
internal sealed class Browsing(SoakHttp http, Catalog catalog)
{
    public async Task BrowseAsync(HttpClient client, Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                await http.SendAsync("browse-list", client, HttpMethod.Get, $"/api/events?page={random.Next(1, 4)}&pageSize=20");
                break;
            case 1:
                await http.SendAsync("browse-list", client, HttpMethod.Get, "/api/events?q=Soak&page=1&pageSize=20");
                break;
            default:
                if (catalog.Pick(random, _ => true) is { } evt)
                {
                    var answer = await http.SendAsync("browse-event", client, HttpMethod.Get, $"/api/events/{evt.Id}");
                    if (answer.Is(200) && answer.OptionalLong("available") is { } available)
                    {
                        evt.SoldOut = available == 0;
                    }
                    if (evt.Kind == EventKind.Seated)
                    {
                        await http.SendAsync("browse-seats", client, HttpMethod.Get, $"/api/events/{evt.Id}/seats");
                    }
                }
                break;
        }
    }
}
