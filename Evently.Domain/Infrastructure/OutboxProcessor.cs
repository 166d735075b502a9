using System.Data;
using System.Diagnostics;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;

namespace Evently.Domain.Infrastructure;

/// <summary>
/// The worker's side of the outbox: takes the oldest row no other worker holds (<c>FOR UPDATE SKIP LOCKED</c>) and
/// does one batch of what it asks in that row's transaction; the row is done when its last batch is.
/// </summary>
public sealed class OutboxProcessor(
    EventlyDbContext db, TimeProvider timeProvider, EventCascades cascades, WaitlistOffers offers, WaitlistMetrics metrics)
{
    /// <returns>Whether a batch was done; false when the outbox is empty (or every row is held by another worker).</returns>
    public Task<bool> ProcessNextBatchAsync(CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(TryProcessNextBatchAsync, cancellationToken);

    private async Task<bool> TryProcessNextBatchAsync(CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var message = await db.OutboxMessages
            .FromSql($"SELECT * FROM outbox_messages WHERE ProcessedAt IS NULL ORDER BY Id LIMIT 1 FOR UPDATE SKIP LOCKED")
            .SingleOrDefaultAsync(ct);
        if (message is null)
        {
            return false;
        }

        // Continues the trace of the request that wrote the row (a cancel, an event change).
        using var activity = WaitlistMetrics.ActivitySource.StartActivity(
            $"outbox {message.Kind}", ActivityKind.Consumer, message.TraceParent ?? default(string));
        activity?.SetTag("evently.event_id", message.EventId);
        var now = timeProvider.UtcNow();
        var done = message.Kind switch
        {
            OutboxKinds.EventCancelled => await cascades.CancelNextBatchAsync(message, ct),
            OutboxKinds.EventChanged => await cascades.NotifyNextBatchAsync(message, ct),
            // Offers are made in the transaction that frees the tickets; rows of these kinds come only from versions
            // before that, and are honoured the same way.
            OutboxKinds.TicketsFreed or OutboxKinds.OfferExpired => await OfferAsync(message.EventId, now, ct),
            _ => true
        };
        if (done)
        {
            message.ProcessedAt = now;
            metrics.OutboxLag(now - message.CreatedAt);
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    private async Task<bool> OfferAsync(long eventId, DateTime now, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"SELECT Id FROM events WHERE Id = {eventId} FOR UPDATE", ct);
        await offers.OfferFreedTicketsAsync(eventId, now, [], ct);
        return true;
    }
}
