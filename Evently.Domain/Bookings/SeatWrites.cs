using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Bookings;

/// <summary>Seat status changes, each a conditional write under the event row's lock, shared by the commands.</summary>
internal static class SeatWrites
{
    /// <summary>Takes every one of the seats, or reports that some were taken meanwhile (the caller rolls back).</summary>
    public static async Task<bool> TryTakeAsync(EventlyDbContext db, long eventId, IReadOnlyCollection<long> seatIds, CancellationToken ct) =>
        seatIds.Count == await db.Seats
            .Where(s => s.EventId == eventId && seatIds.Contains(s.Id) && s.Status == SeatStatus.Available)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Booked), ct);

    /// <summary>Gives seats back to sale.</summary>
    public static Task ReleaseAsync(EventlyDbContext db, IReadOnlyCollection<long> seatIds, CancellationToken ct) =>
        seatIds.Count == 0 ? Task.CompletedTask : Release(new SqlBatch(), seatIds).ExecuteAsync(db, ct);

    /// <summary>Gives seats back to sale with the caller's other writes (at least one seat).</summary>
    public static SqlBatch Release(SqlBatch writes, IReadOnlyCollection<long> seatIds) =>
        writes.Add($"UPDATE seats SET Status = '{nameof(SeatStatus.Available)}' WHERE Id IN ({SqlBatch.Placeholders(seatIds.Count)})",
            seatIds.Cast<object?>());
}
