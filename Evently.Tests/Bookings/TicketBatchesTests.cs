using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Evently.Domain.Bookings;
using Evently.Domain.Common;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace Evently.Tests.Bookings;

// Direct bookings of one event written together (TicketBatches), through BookTickets as the API wires it,
// against the real database: each caller still gets exactly its own answer.
[Collection(AppCollection.Name)]
public sealed class TicketBatchesTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task Concurrent_bookings_of_one_event_share_transactions_and_each_gets_its_own_booking()
    {
        using var admin = await fixture.AdminAsync();
        using var alice = await fixture.NewUserAsync();
        using var bob = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 1_000);
        await using var direct = new DirectBookings(fixture);

        var commands = Enumerable.Range(0, 120)
            .Select(i => new BookingCommand(i % 2 == 0 ? alice.User.Id : bob.User.Id, evt.Id, 1 + i % 3, null, null)).ToList();
        var results = await Task.WhenAll(commands.Select(direct.BookAsync));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error?.Message));
        Assert.Contains(direct.Batches, b => b is { Size: > 1, Written: true });
        var answered = results.Select(r => r.Value!).ToList();
        Assert.Equal(answered.Count, answered.Select(b => b.Id).Distinct().Count());
        Assert.All(answered, b => Assert.Equal(evt.Name, b.Event!.Name));
        await using var db = fixture.CreateDbContext();
        var stored = await db.Bookings.AsNoTracking().Where(b => b.EventId == evt.Id).ToDictionaryAsync(b => b.Id);
        // Every caller's booking is the one written for it: its user and its quantity.
        Assert.Equal(
            commands.Select(c => (c.UserId, c.Quantity!.Value)).Order(),
            answered.Select(b => (stored[b.Id].UserId, stored[b.Id].Quantity)).Order());
        Assert.All(answered, b => Assert.Equal((b.UserId, b.Quantity), (stored[b.Id].UserId, stored[b.Id].Quantity)));
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: commands.Sum(c => c.Quantity!.Value));
        Assert.Equal(commands.Count, (await db.Events.AsNoTracking().SingleAsync(e => e.Id == evt.Id)).BookingsMade);
    }

    [Fact]
    public async Task Concurrent_bookings_of_many_events_share_transactions_and_a_sold_out_event_refuses_only_its_own()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var events = new List<EventDto>();
        for (var i = 0; i < 40; i++)
        {
            events.Add(await admin.CreateEventAsync(capacity: i == 0 ? 1 : 10));
        }
        await using var direct = new DirectBookings(fixture);

        // One booking of each event, and three for the event with one ticket: all at once.
        var commands = events.Select(e => new BookingCommand(user.User.Id, e.Id, 1, null, null))
            .Concat(Enumerable.Range(0, 2).Select(_ => new BookingCommand(user.User.Id, events[0].Id, 1, null, null))).ToList();
        var results = await Task.WhenAll(commands.Select(direct.BookAsync));

        // Bookings of different events were written in one transaction: more than the three of any one event.
        Assert.Contains(direct.Batches, b => b.Size > 3);
        Assert.Equal(events.Count, results.Count(r => r.Succeeded));
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal("sold-out", r.Error!.Code));
        Assert.All(results.Where(r => r.Succeeded), r => Assert.Equal(events.Single(e => e.Id == r.Value!.EventId).Name, r.Value!.Event!.Name));
        foreach (var evt in events)
        {
            await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 1);
        }
    }

    [Fact]
    public async Task Near_a_sell_out_exactly_the_tickets_left_are_sold_and_the_rest_refused()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 30);
        await using var direct = new DirectBookings(fixture);

        var results = await Task.WhenAll(Enumerable.Range(0, 90)
            .Select(_ => direct.BookAsync(new BookingCommand(user.User.Id, evt.Id, 1, null, null))));

        Assert.Equal(30, results.Count(r => r.Succeeded));
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal("sold-out", r.Error!.Code));
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 30);
    }

    [Fact]
    public async Task Twins_with_one_Idempotency_Key_in_a_busy_event_make_one_booking()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 1_000);
        await using var direct = new DirectBookings(fixture);
        var key = Guid.NewGuid().ToString("N");

        var results = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            direct.BookAsync(new BookingCommand(user.User.Id, evt.Id, 2, null, i % 10 == 0 ? key : null))));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error?.Message));
        var twins = results.Where((_, i) => i % 10 == 0).Select(r => r.Value!.Id).Distinct();
        Assert.Single(twins);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2 * (60 - 6 + 1));
    }

    [Fact]
    public async Task A_batch_whose_reply_is_lost_after_the_commit_books_nothing_twice()
    {
        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var evt = await admin.CreateEventAsync(capacity: 10);
        var database = new MySqlConnectionStringBuilder(fixture.DatabaseConnectionString);
        await using var proxy = new ReplyCuttingProxy(database.Server, (int)database.Port);
        database.Port = (uint)proxy.Port;
        database.Pooling = false;
        await using var direct = new DirectBookings(fixture, database.ConnectionString);

        proxy.CutReplyToNext("START TRANSACTION");
        var result = await direct.BookAsync(new BookingCommand(user.User.Id, evt.Id, 2, null, null));

        Assert.True(proxy.Cut.IsCompleted, "the reply to the batch was lost");
        Assert.True(result.Succeeded, result.Error?.Message);
        await using var check = fixture.CreateDbContext();
        Assert.Equal(result.Value!.Id, Assert.Single(await check.Bookings.Where(b => b.EventId == evt.Id).ToListAsync()).Id);
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 2);
    }

    // BookTickets with TicketBatches, as the API registers them; each booking in its own scope, as a request.
    private sealed class DirectBookings : IAsyncDisposable
    {
        private readonly ServiceProvider _services;
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(int Size, bool Written)> _batches = new();

        public DirectBookings(EventlyAppFixture fixture, string? connectionString = null)
        {
            _services = new ServiceCollection()
                .AddMetrics()
                .AddLogging()
                .AddSingleton(TimeProvider.System)
                .AddSingleton<BookingMetrics>()
                .AddSingleton<WaitlistMetrics>()
                .AddSingleton<TicketBatches>()
                .AddScoped(_ => fixture.CreateDbContext(connectionString))
                .AddBookingCommands()
                .BuildServiceProvider();
            // This provider's meters only: the factory is their scope.
            var meters = _services.GetRequiredService<IMeterFactory>();
            _services.GetRequiredService<BookingMetrics>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "evently.bookings.direct.batch_size" && instrument.Meter.Scope == meters)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((_, size, tags, _) =>
                _batches.Enqueue((size, tags.ToArray().Any(t => t is { Key: "written", Value: true }))));
            _listener.Start();
        }

        public IReadOnlyCollection<(int Size, bool Written)> Batches => _batches;

        public async Task<Result<Booking>> BookAsync(BookingCommand command)
        {
            await using var scope = _services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<BookTickets>().HandleAsync(command, CancellationToken.None);
            return result.Succeeded ? result.Value!.Booking! : result.Error!;
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Dispose();
            await _services.DisposeAsync();
        }
    }
}
