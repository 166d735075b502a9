using System.Diagnostics;
using Evently.Domain.Bookings;
using Evently.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;
using Xunit.Abstractions;

namespace Evently.Tests.Events;

// Events far larger than any other test's: changed and cancelled within a request's deadline, with every holder told
// once afterwards; a layout of 100,000 seats created within it.
[Collection(AppCollection.Name)]
public sealed class BigEventsTests(EventlyAppFixture fixture, ITestOutputHelper output)
{
    private const int Holders = 100_000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task An_event_of_a_hundred_thousand_holders_is_moved_and_cancelled_within_the_deadline_and_each_holder_hears_once()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: Holders);
        var evt = await admin.CreateEventAsync(body);
        await SeedHoldersAsync(evt.Id);

        // The worker's batches are run by this test, and their 200,000 notices marked mailed before the workers return:
        // so many mails would keep the suite's mail server busy for minutes. Smaller events go through the workers
        // (EventsTests).
        await using (await StoppedWorkers.StopAsync(fixture))
        await using (var services = new ClockedServices(fixture, DateTimeOffset.UtcNow))
        {
            var moved = await TimedAsync("PUT (venue changed)", () => admin.Http.PutAsJsonAsync($"/api/events/{evt.Id}", TestApi.With(body, "venue", "The Bigger Hall")));
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
            var cancelled = await TimedAsync("DELETE", () => admin.Http.DeleteAsync($"/api/events/{evt.Id}"));
            Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);
            Assert.Equal("cancelled", (await fixture.ReadEventAsync(evt.Id)).Status);

            var batches = Stopwatch.StartNew();
            await services.RunOutboxAsync(evt.Id);
            output.WriteLine($"the worker's batches: {batches.Elapsed.TotalSeconds:F1} s for {Holders:N0} holders");

            await using var db = fixture.CreateDbContext();
            Assert.Equal(0, await db.Bookings.CountAsync(b => b.EventId == evt.Id && b.Status == BookingStatus.Confirmed));
            foreach (var kind in new[] { NotificationKinds.EventChanged, NotificationKinds.EventCancelled })
            {
                var notices = db.Notifications.Where(n => n.EventId == evt.Id && n.Kind == kind);
                Assert.Equal((Holders, Holders), (await notices.CountAsync(), await notices.Select(n => n.UserId).Distinct().CountAsync()));
            }
            await db.Notifications.Where(n => n.EventId == evt.Id).ExecuteUpdateAsync(n => n.SetProperty(x => x.EmailedAt, DateTime.UtcNow));
        }
        await fixture.AssertBookingInvariantsAsync(evt.Id, expectedBooked: 0);
    }

    [Fact]
    public async Task A_layout_of_a_hundred_thousand_seats_is_created_within_the_deadline()
    {
        using var admin = await fixture.AdminAsync();
        var body = TestApi.NewEventBody(capacity: Holders, seating: new
        {
            sections = new[] { new { name = "Stalls", rows = 100, seatsPerRow = 500 }, new { name = "Circle", rows = 100, seatsPerRow = 500 } }
        });

        var created = await TimedAsync("POST (100,000 seats)", () => admin.Http.PostAsJsonAsync("/api/events", body));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var evt = (await created.Content.ReadFromJsonAsync<EventDto>())!;
        await using var db = fixture.CreateDbContext();
        Assert.Equal(Holders, await db.Seats.CountAsync(s => s.EventId == evt.Id));
        Assert.Equal(1, await db.Seats.CountAsync(s => s.EventId == evt.Id && s.Section == "Circle" && s.Row == "CV" && s.Number == 500));
    }

    private async Task<HttpResponseMessage> TimedAsync(string what, Func<Task<HttpResponseMessage>> send)
    {
        var watch = Stopwatch.StartNew();
        var response = await send();
        output.WriteLine($"{what}: {(int)response.StatusCode} in {watch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(watch.Elapsed < Deadline, $"{what} took {watch.Elapsed.TotalSeconds:F1} s");
        return response;
    }

    // 100,000 accounts holding a ticket each, written set-based (MariaDB's sequence engine), with the counters and the
    // day's rollup that those bookings would have moved, so that the analytics stay equal to the rows.
    private async Task SeedHoldersAsync(long eventId)
    {
        await using var connection = new MySqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        var run = Guid.NewGuid().ToString("N")[..12];
        await using var seed = new MySqlCommand($"""
            INSERT INTO users (Email, NormalizedEmail, Name, PasswordHash, Role, CreatedAt)
              SELECT CONCAT('holder-{run}-', seq, '@example.com'), CONCAT('HOLDER-{run}-', seq, '@EXAMPLE.COM'), 'Holder', '-', 'user', UTC_TIMESTAMP(6)
              FROM seq_1_to_{Holders};
            INSERT INTO bookings (EventId, UserId, Quantity, Status, CreatedAt)
              SELECT @event, Id, 1, 'Confirmed', UTC_TIMESTAMP(6) FROM users WHERE Email LIKE 'holder-{run}-%';
            UPDATE events SET Booked = {Holders}, BookingsMade = {Holders} WHERE Id = @event;
            INSERT INTO analytics_days (Day, Shard, Bookings, Cancellations, BookingsCancelled, TicketsSold)
              VALUES (UTC_DATE(), @event % 64, {Holders}, 0, 0, {Holders})
              ON DUPLICATE KEY UPDATE Bookings = Bookings + {Holders}, TicketsSold = TicketsSold + {Holders};
            """, connection) { CommandTimeout = 120 };
        seed.Parameters.AddWithValue("@event", eventId);
        await seed.ExecuteNonQueryAsync();
    }
}
