using System.Net;
using System.Net.Http.Json;

namespace Evently.Tests.Events;

/// <summary>The two-level cache of event reads: what another replica sees, and one rebuild under a crowd.</summary>
[Collection(AppCollection.Name)]
public sealed class EventReadsCacheTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task Every_api_replica_shows_an_admin_change_within_a_pub_sub_message()
    {
        await using var replica = await ServiceProcess.StartApiAsync(fixture);
        using var admin = await fixture.AdminAsync();
        using var otherAdmin = replica.As(admin);
        using var replicaReader = replica.CreateClient();
        HttpClient[] readers = [fixture.Api, replicaReader];
        var body = TestApi.NewEventBody();
        var evt = await admin.CreateEventAsync(body);
        foreach (var reader in readers)
        {
            Assert.Equal(evt.Name, (await reader.GetFromJsonAsync<EventDto>($"/api/events/{evt.Id}"))!.Name);
        }

        var renamed = $"Renamed {Guid.NewGuid():N}";
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "name", renamed))).StatusCode);
        foreach (var reader in readers)
        {
            await ShowsAsync(reader, evt.Id, e => e.Name == renamed);
        }

        // And the other way round: a cancel made through the other replica.
        Assert.Equal(HttpStatusCode.NoContent, (await otherAdmin.Http.DeleteAsync($"/api/events/{evt.Id}")).StatusCode);
        foreach (var reader in readers)
        {
            await ShowsAsync(reader, evt.Id, e => e.Status == "cancelled");
            var list = await reader.GetFromJsonAsync<PageDto<EventDto>>($"/api/events?q={Uri.EscapeDataString(renamed)}");
            Assert.Empty(list!.Items);
        }
    }

    // Another replica learns of a change by a Redis pub/sub message: it arrives within milliseconds, but a busy
    // test host may send the next read first. Bookings are never allowed to lag this far, only this message.
    private static readonly TimeSpan Propagation = TimeSpan.FromMilliseconds(250);

    private static async Task ShowsAsync(HttpClient reader, long id, Func<EventDto, bool> change)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!change((await reader.GetFromJsonAsync<EventDto>($"/api/events/{id}"))!))
        {
            Assert.True(watch.Elapsed < Propagation, $"{reader.BaseAddress} did not show the change within {Propagation.TotalMilliseconds} ms");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task An_expired_entry_under_fifty_concurrent_readers_is_read_from_the_database_once()
    {
        var (proxy, throughProxy) = FaultProxy.ForDatabase(fixture.DatabaseConnectionString);
        await using var _ = proxy;
        await using var replica = await ServiceProcess.StartApiAsync(fixture, database: throughProxy);
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync();
        using var http = replica.CreateClient();

        // The event's read, as EF Core sends it: the id is written into the statement.
        proxy.Count($"`e`.`Id` = {evt.Id}");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/events/{evt.Id}")).StatusCode);
        Assert.Equal(1, proxy.Counted);
        await Task.Delay(BookingTestApi.Freshness + TimeSpan.FromMilliseconds(200));

        proxy.Count($"`e`.`Id` = {evt.Id}");
        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => http.GetAsync($"/api/events/{evt.Id}")));

        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.OK, answer.StatusCode));
        Assert.Equal(1, proxy.Counted);
    }
}
