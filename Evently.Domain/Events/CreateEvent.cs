using System.Data;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Evently.Domain.Common;
using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Evently.Domain.Events;

/// <summary>What an admin sets on an event; already validated for shape (see the API's validator).</summary>
public sealed record EventDraft(
    string Name, string Description, string Venue, DateTime StartsAt, DateTime EndsAt, int Capacity,
    bool HighDemand, IReadOnlyList<SeatSection>? Seating, DateTime? SalesStartAt = null);

/// <summary>
/// Creates an event and its seats in one transaction. Every creation is recorded in the idempotency ledger under
/// the admin's Idempotency-Key (a repeat answers the same event), or under a key of its own when the request has
/// none: either way a retry after a lost commit finds the event it made instead of making a second one.
/// </summary>
public sealed class CreateEvent(EventlyDbContext db, TimeProvider timeProvider, IdempotencyLedger ledger)
{
    public async Task<Result<Event>> HandleAsync(EventDraft draft, long adminId, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var fingerprint = Fingerprint(draft);
        if (await ReplayAsync(adminId, idempotencyKey, fingerprint, cancellationToken) is { } repeat)
        {
            return repeat;
        }
        var attempt = new Attempt(draft, adminId, idempotencyKey ?? $"~created-{Guid.NewGuid():N}", fingerprint);
        var result = await db.Database.CreateExecutionStrategy().ExecuteAsync(attempt, TryCreateAsync, VerifyCreatedAsync, cancellationToken);
        // A refusal of a keyed request may only mean that a twin with the same key won the race.
        return !result.Succeeded && await ReplayAsync(adminId, idempotencyKey, fingerprint, cancellationToken) is { } twin ? twin : result;
    }

    /// <summary>What an earlier create under the admin's key answered (the event, or key reused), or null when the key made nothing.</summary>
    public Task<Result<Event>?> FindRepeatAsync(EventDraft draft, long adminId, string idempotencyKey, CancellationToken cancellationToken) =>
        ReplayAsync(adminId, idempotencyKey, Fingerprint(draft), cancellationToken);

    private sealed record Attempt(EventDraft Draft, long AdminId, string Key, string Fingerprint);

    private async Task<Result<Event>?> ReplayAsync(long adminId, string? key, string fingerprint, CancellationToken ct)
    {
        if (key is null || await ledger.FindAsync(adminId, key, ct) is not { } record)
        {
            return null;
        }
        return record is { Outcome: IdempotentOutcome.Event } && record.Fingerprint == fingerprint
            ? await db.Events.AsNoTracking().SingleAsync(e => e.Id == record.OutcomeId, ct)
            : IdempotencyErrors.KeyReused;
    }

    private async Task<Result<Event>> TryCreateAsync(DbContext _, Attempt attempt, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var evt = new Event { Name = attempt.Draft.Name, Venue = attempt.Draft.Venue, CreatedAt = now };
        EventDrafts.Apply(evt, attempt.Draft, now);
        db.Events.Add(evt);
        await db.SaveChangesAsync(ct);
        if (attempt.Draft.Seating is { } seating)
        {
            try
            {
                await SeatRows.InsertAsync(db, evt.Id, seating, ct);
            }
            catch (MySqlConnector.MySqlException ex) when (ex.ErrorCode == MySqlConnector.MySqlErrorCode.DuplicateKeyEntry)
            {
                // Section names the database compares as equal (case and accents aside) that validation let through.
                await transaction.RollbackAsync(ct);
                return EventErrors.DuplicateSeats;
            }
        }
        if (!await ledger.TryRecordAsync(attempt.AdminId, attempt.Key, attempt.Fingerprint, IdempotentOutcome.Event, evt.Id, now, ct))
        {
            await transaction.RollbackAsync(ct);
            return IdempotencyErrors.KeyReused;
        }
        await transaction.CommitAsync(ct);
        return evt;
    }

    // Before a retry: a ledger row under the attempt's key means the commit happened although its reply was lost.
    private async Task<ExecutionResult<Result<Event>>> VerifyCreatedAsync(DbContext _, Attempt attempt, CancellationToken ct) =>
        await ledger.FindAsync(attempt.AdminId, attempt.Key, ct) is { } record
            ? new ExecutionResult<Result<Event>>(true, await db.Events.AsNoTracking().SingleAsync(e => e.Id == record.OutcomeId, ct))
            : new ExecutionResult<Result<Event>>(false, default);

    // What the key was used for: the draft itself, hashed (a description may be 4,000 characters).
    private static string Fingerprint(EventDraft draft) =>
        "event-create:" + Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(draft)));
}
