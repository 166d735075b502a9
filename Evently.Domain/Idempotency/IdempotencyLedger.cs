using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Evently.Domain.Idempotency;

/// <summary>
/// The idempotency ledger in MySQL: one row per (user, Idempotency-Key), the key's first use. Redis may keep a
/// copy for speed (the high-demand intake), never the only one: what a key answers never depends on Redis.
/// </summary>
public sealed class IdempotencyLedger(EventlyDbContext db)
{
    public const int MaxKeyLength = 64;

    /// <summary>The columns of a ledger row, in the order the raw SQL writers give them.</summary>
    public const string InsertColumns = "INSERT INTO idempotency_records (UserId, IdempotencyKey, Fingerprint, Outcome, OutcomeId, CreatedAt)";

    public Task<IdempotencyRecord?> FindAsync(long userId, string key, CancellationToken cancellationToken) =>
        db.IdempotencyRecords.AsNoTracking().SingleOrDefaultAsync(r => r.UserId == userId && r.IdempotencyKey == key, cancellationToken);

    /// <summary>The records of several keys of several users at once (the queue's drain), by (user, key).</summary>
    public async Task<Dictionary<(long UserId, string Key), IdempotencyRecord>> FindAsync(
        IReadOnlyCollection<(long UserId, string Key)> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return [];
        }
        var users = keys.Select(k => k.UserId).Distinct().ToList();
        var names = keys.Select(k => k.Key).Distinct().ToList();
        var found = await db.IdempotencyRecords.AsNoTracking()
            .Where(r => users.Contains(r.UserId) && names.Contains(r.IdempotencyKey)).ToListAsync(cancellationToken);
        return found.Where(r => keys.Contains((r.UserId, r.IdempotencyKey))).ToDictionary(r => (r.UserId, r.IdempotencyKey));
    }

    /// <summary>
    /// Records what the key made, in the caller's transaction (nothing without a key). False when the key is already
    /// recorded: its first use won, and the caller rolls back and answers with that one.
    /// </summary>
    public async Task<bool> TryRecordAsync(long userId, string? key, string fingerprint, IdempotentOutcome outcome, long outcomeId,
        DateTime now, CancellationToken cancellationToken)
    {
        if (key is null)
        {
            return true;
        }
        try
        {
            await db.Database.ExecuteSqlRawAsync($"{InsertColumns} VALUES (@user, @key, @fingerprint, @outcome, @outcomeId, @at)",
                [new MySqlParameter("@user", userId), new MySqlParameter("@key", key), new MySqlParameter("@fingerprint", fingerprint),
                    new MySqlParameter("@outcome", outcome.ToString()), new MySqlParameter("@outcomeId", outcomeId), new MySqlParameter("@at", now)],
                cancellationToken);
            return true;
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return false;
        }
    }
}
