using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using Evently.Domain.Bookings;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Evently.Tests.Infrastructure;

public sealed record DailyBookingsDto(DateOnly Date, int Bookings, int Cancellations, long TicketsSold);
public sealed record BookingAnalyticsDto(
    long TotalBookings, long ConfirmedBookings, long CancelledBookings, long TicketsSold, double CancellationRate,
    List<DailyBookingsDto> Daily, DateOnly From, DateOnly To);
public sealed record EventAnalyticsDto(
    long EventId, string Name, int TicketsSold, int Bookings, int Cancellations, double CancellationRate, double Utilization);
public sealed record EventUtilizationDto(long EventId, string Name, int Capacity, int Booked, double Utilization);
public sealed record UtilizationDto(double Overall, List<EventUtilizationDto> Events);

public static class AnalyticsTestApi
{
    /// <summary>GET with 'Cache-Control: no-cache': the figures computed afresh.</summary>
    public static async Task<T> FreshAsync<T>(this Caller admin, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        var response = await admin.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    /// <summary>
    /// Runs a comparison of global figures until it could be made on data that held still (it says so by
    /// returning true): other tests' work may still land meanwhile (the worker answers queues and offers).
    /// </summary>
    public static async Task StableAsync(Func<Task<bool>> compare)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (await compare())
            {
                return;
            }
            await Task.Delay(250);
        }
        Assert.Fail("The bookings kept changing: no comparison could be made in 20 tries.");
    }
}

/// <summary>
/// The booking and event services of Evently.Domain on the app's database, with the clock in the test's hand:
/// bookings and cancellations happen at the instants the test names, on days nobody else books on.
/// </summary>
public sealed class ClockedServices : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly AsyncServiceScope _scope;

    public ClockedServices(EventlyAppFixture fixture, DateTimeOffset start)
    {
        Clock = new FakeTimeProvider(start);
        _services = new ServiceCollection()
            .AddMetrics()
            .AddLogging()
            .AddSingleton<TimeProvider>(Clock)
            .AddSingleton<BookingMetrics>()
            .AddSingleton<WaitlistMetrics>()
            // Offers held for the default 15 minutes, not the fixture's few seconds.
            .AddSingleton(Options.Create(new WaitlistOptions()))
            .AddScoped(_ => fixture.CreateDbContext())
            .AddBookingCommands()
            .AddEventCommands()
            .AddEventCascades()
            .AddScoped<OfferService>()
            .BuildServiceProvider();
        _scope = _services.CreateAsyncScope();
    }

    public FakeTimeProvider Clock { get; }
    public OfferService Offers => _scope.ServiceProvider.GetRequiredService<OfferService>();
    private T Command<T>() where T : notnull => _scope.ServiceProvider.GetRequiredService<T>();

    /// <summary>Moves the clock (forward only) to the instant given.</summary>
    public ClockedServices At(DateTime utc)
    {
        Clock.SetUtcNow(new DateTimeOffset(utc, TimeSpan.Zero));
        return this;
    }

    public async Task<long> BookAsync(long userId, long eventId, int quantity)
    {
        var booked = await Command<BookTickets>().HandleAsync(new BookingCommand(userId, eventId, quantity, null, null), CancellationToken.None);
        Assert.True(booked.Succeeded, booked.Error?.Message);
        return booked.Value!.Booking!.Id;
    }

    public async Task<long> BookSeatsAsync(long userId, long eventId, params long[] seatIds)
    {
        var booked = await Command<BookTickets>().HandleAsync(new BookingCommand(userId, eventId, null, seatIds, null), CancellationToken.None);
        Assert.True(booked.Succeeded, booked.Error?.Message);
        return booked.Value!.Booking!.Id;
    }

    public async Task CancelAsync(long userId, long bookingId)
    {
        var cancelled = await Command<CancelBooking>().HandleAsync(bookingId, userId, false, CancellationToken.None);
        Assert.True(cancelled is { Succeeded: true, Value.Cancelled: true }, cancelled.Error?.Message);
    }

    /// <summary>Cancels the event, and runs what the cancel leaves to the worker (or waits for a worker that took it).</summary>
    public async Task CancelEventAsync(long eventId)
    {
        Assert.True((await Command<CancelEvent>().HandleAsync(eventId, CancellationToken.None)).Succeeded);
        await RunOutboxAsync(eventId);
    }

    /// <summary>Runs the outbox (the worker's batches) until the event's rows are done, by this process or by a worker that took them.</summary>
    public async Task RunOutboxAsync(long eventId)
    {
        while (await Command<OutboxProcessor>().ProcessNextBatchAsync(CancellationToken.None))
        {
        }
        var db = Command<EventlyDbContext>();
        await WaitlistTestApi.EventuallyAsync(() => db.OutboxMessages.AllAsync(m => m.EventId != eventId || m.ProcessedAt != null),
            TimeSpan.FromSeconds(30), $"the outbox of event {eventId}");
    }

    public async ValueTask DisposeAsync()
    {
        await _scope.DisposeAsync();
        await _services.DisposeAsync();
    }
}

/// <summary>
/// Six quiet UTC days with known bookings and cancellations, made through the real services at chosen
/// instants (the day's first and last microsecond among them), and the figures they must give.
/// </summary>
public sealed record KnownWindow(DateOnly From, DateOnly To, long PlainEventId, long CancelledEventId, long SeatedEventId)
{
    // Bookings of the rest of the suite fall on today; these windows lie years back, one apart from the next.
    private static int _windows;

    /// <summary>What each day of the window must show: bookings made, cancellations made, tickets still confirmed.</summary>
    public List<DailyBookingsDto> ExpectedDaily =>
    [
        new(From, 2, 0, 3),            // b1 (2 tickets, cancelled on day 2) and b2 (3) made
        new(From.AddDays(1), 0, 1, 0), // b0, made the day before the window, cancelled
        new(From.AddDays(2), 1, 1, 0), // b3 (4, cancelled with its event on day 5) made at 23:59:59.999999; b1 cancelled
        new(From.AddDays(3), 2, 1, 1), // b4 made at 00:00:00 and cancelled a second later; a seat booked (1)
        new(From.AddDays(4), 0, 0, 0), // nothing
        new(From.AddDays(5), 1, 1, 5)  // b3 cancelled with its event; b5 (5) made at 23:59:59.999999
    ];

    public static readonly (long Total, long Confirmed, long Cancelled, long Tickets, double Rate) ExpectedTotals = (6, 3, 3, 9, 0.5);

    public static async Task<KnownWindow> CreateAsync(EventlyAppFixture fixture)
    {
        var from = new DateOnly(2001, 1, 1).AddDays(10 * Interlocked.Increment(ref _windows));
        var day = (int n) => from.AddDays(n).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var lastMicrosecond = TimeSpan.FromDays(1) - TimeSpan.FromTicks(10);

        using var admin = await fixture.AdminAsync();
        using var user = await fixture.NewUserAsync();
        var plain = await admin.CreateEventAsync(capacity: 100);
        var doomed = await admin.CreateEventAsync(capacity: 100);
        var seated = await admin.CreateEventAsync(capacity: 2, seating: new { sections = new[] { new { name = "Box", rows = 1, seatsPerRow = 2 } } });
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{seated.Id}/seats"))!;
        var id = user.User.Id;

        await using var services = new ClockedServices(fixture, new DateTimeOffset(day(-1), TimeSpan.Zero));
        var b0 = await services.At(day(-1) + lastMicrosecond).BookAsync(id, plain.Id, 1);
        var b1 = await services.At(day(0)).BookAsync(id, plain.Id, 2);
        await services.At(day(0).AddHours(12)).BookAsync(id, plain.Id, 3);
        await services.At(day(1).AddHours(9)).CancelAsync(id, b0);
        await services.At(day(2).AddHours(10)).CancelAsync(id, b1);
        await services.At(day(2) + lastMicrosecond).BookAsync(id, doomed.Id, 4);
        var b4 = await services.At(day(3)).BookAsync(id, doomed.Id, 1);
        await services.At(day(3).AddSeconds(1)).CancelAsync(id, b4);
        await services.At(day(3).AddHours(12)).BookSeatsAsync(id, seated.Id, seats[0].Id);
        await services.At(day(5).AddHours(8)).CancelEventAsync(doomed.Id);
        await services.At(day(5) + lastMicrosecond).BookAsync(id, plain.Id, 5);
        await services.At(day(6)).BookAsync(id, plain.Id, 6);

        return new KnownWindow(from, from.AddDays(5), plain.Id, doomed.Id, seated.Id);
    }
}
