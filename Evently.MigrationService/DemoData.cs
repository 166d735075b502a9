using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.MigrationService;

// A handful of upcoming events so a fresh install has something to browse and book.
internal static class DemoData
{
    public static async Task SeedAsync(EventlyDbContext db, DateTime now, CancellationToken cancellationToken)
    {
        if (await db.Events.AnyAsync(cancellationToken))
        {
            return;
        }

        var today = now.Date;
        db.Events.AddRange(
            NewEvent("Evently launch party", "The Foundry, Leeds", today.AddDays(14).AddHours(19), 3, 200, now),
            NewEvent(".NET Aspire workshop", "Tech Hub, Manchester", today.AddDays(21).AddHours(9), 8, 40, now),
            NewEvent("Jazz on the river", "Riverside Stage, Bristol", today.AddDays(30).AddHours(20), 2, 500, now, highDemand: true),
            NewSeatedEvent("Chamber orchestra: Brahms", "Royal Hall, York", today.AddDays(45).AddHours(19), now,
                ("Stalls", rows: 5, seatsPerRow: 10), ("Balcony", rows: 2, seatsPerRow: 8)));

        await db.SaveChangesAsync(cancellationToken);
    }

    private static Event NewEvent(string name, string venue, DateTime startsAt, int hours, int capacity, DateTime now,
        bool highDemand = false) => new()
    {
        Name = name,
        Venue = venue,
        Description = $"{name} at {venue}.",
        StartsAt = startsAt,
        EndsAt = startsAt.AddHours(hours),
        Capacity = capacity,
        HighDemand = highDemand,
        CreatedAt = now,
        UpdatedAt = now
    };

    private static Event NewSeatedEvent(string name, string venue, DateTime startsAt, DateTime now,
        params (string Section, int rows, int seatsPerRow)[] sections)
    {
        var evt = NewEvent(name, venue, startsAt, 2, sections.Sum(s => s.rows * s.seatsPerRow), now);
        evt.HasSeating = true;
        evt.Seats = SeatLayout.Create(sections.Select(s => new SeatSection(s.Section, s.rows, s.seatsPerRow)));
        return evt;
    }
}
