using System.Data;
using Evently.Domain.Analytics;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Infrastructure;
using Evently.Domain.Waitlist;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace Evently.Domain.Bookings;

/// <summary>
/// Books and cancels tickets: the one implementation used by the API (direct bookings) and the worker
/// (queued bookings).
/// </summary>
/// <remarks>
/// Why it cannot oversell: the capacity check and the increment are one conditional UPDATE
/// (<c>SET Booked = Booked + q WHERE Booked + Held + q &lt;= Capacity</c>), which InnoDB evaluates under
/// the row's lock, so two bookings can never both see the same free tickets. No lock is taken before
/// the write and no read-modify-write happens in the app. Seats are taken the same way
/// (<c>WHERE Status = 'Available'</c>, every row must change), and the unique index on
/// (SeatId, Active) of booking_seats and the CHECK constraint on events refuse any code path that
/// would get it wrong anyway. Every write that changes an event's tickets or seats locks the event row
/// first, and the transactions that read after that lock do so at READ COMMITTED, so what they read is current.
/// </remarks>
public sealed class BookingService(
    EventlyDbContext db, TimeProvider timeProvider, BookingMetrics metrics, WaitlistMetrics waitlistMetrics, TicketBatches? batches = null)
{
    public async Task<Result<Booking>> BookAsync(BookingCommand command, CancellationToken cancellationToken)
    {
        if (BookingRules.Validate(command) is { } invalid)
        {
            return invalid;
        }
        if (await ReplayAsync(command, cancellationToken) is { } replay)
        {
            return replay;
        }

        // Tickets without seats need no read first: the conditional write checks the event itself, and its
        // reasons are read only when it refuses. Chosen seats are checked against the event beforehand.
        Event? evt = null;
        List<Seat> seats = [];
        if (command.SeatIds is { } seatIds)
        {
            evt = await db.Events.AsNoTracking().SingleOrDefaultAsync(e => e.Id == command.EventId, cancellationToken);
            seats = await db.Seats.AsNoTracking().Where(s => seatIds.Contains(s.Id)).ToListAsync(cancellationToken);
            if (BookingRules.CheckEvent(evt, command, seats, timeProvider.UtcNow()) is { } refused)
            {
                return await RefuseAsync(command, refused, cancellationToken);
            }
        }

        var attempt = new BookingAttempt(command, seats);
        // Tickets of a busy event are written with the others of its next batch; what a batch cannot write
        // whole is booked alone, with the exact refusals and the retries.
        if (seats.Count == 0 && batches is not null
            && await batches.BookAsync(command.EventId, attempt.Ticket, timeProvider.UtcNow(), cancellationToken) is { } batched)
        {
            metrics.Made(batched.Quantity);
            return batched;
        }
        var result = await db.Database.CreateExecutionStrategy()
            .ExecuteAsync(attempt, TryBookAsync, VerifyBookedAsync, cancellationToken);
        if (!result.Succeeded)
        {
            return await RefuseAsync(command, result.Error!, cancellationToken);
        }

        var booking = result.Value!;
        booking.Event ??= evt;
        metrics.Made(booking.Quantity);
        return booking;
    }

    private sealed record BookingAttempt(BookingCommand Command, List<Seat> Seats)
    {
        // Stored with the booking by whichever try writes it: the database answers whether that happened.
        public Guid Token { get; } = Guid.NewGuid();
        public string Fingerprint { get; } = BookingRules.Fingerprint(Command);

        public TicketBatches.Ticket Ticket => new(Command.UserId, BookingRules.Tickets(Command), Command.IdempotencyKey,
            Command.IdempotencyKey is null ? null : Fingerprint, Token);

        // The offer this attempt claims, for claims of a waitlist offer.
        public WaitlistEntry? ClaimOf { get; init; }
    }

    // One try, in one transaction: take the tickets, take the seats, write the booking.
    private async Task<Result<Booking>> TryBookAsync(DbContext _, BookingAttempt attempt, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var (command, seats) = (attempt.Command, attempt.Seats);
        if (seats.Count == 0)
        {
            return await TryBookTicketsAsync(attempt, ct);
        }
        var now = timeProvider.UtcNow();
        var tickets = BookingRules.Tickets(command);
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        var taken = await db.Events
            .Where(e => e.Id == command.EventId && e.Status == EventStatus.Scheduled && e.StartsAt > now
                && e.Booked + e.Held + tickets <= e.Capacity)
            .ExecuteUpdateAsync(e => e
                .SetProperty(x => x.Booked, x => x.Booked + tickets)
                .SetProperty(x => x.BookingsMade, x => x.BookingsMade + 1)
                .SetProperty(x => x.Version, x => x.Version + 1), ct);
        if (taken == 0)
        {
            await transaction.RollbackAsync(ct);
            return await WhyNotBookableAsync(command.EventId, now, ct);
        }

        if (seats.Count > 0 && !await TakeSeatsAsync(command.EventId, seats.Select(s => s.Id).ToList(), ct))
        {
            await transaction.RollbackAsync(ct);
            return BookingErrors.SeatTaken;
        }

        db.Seats.AttachRange(seats);
        var booking = new Booking
        {
            EventId = command.EventId,
            UserId = command.UserId,
            Quantity = tickets,
            CreatedAt = now,
            IdempotencyKey = command.IdempotencyKey,
            RequestFingerprint = command.IdempotencyKey is null ? null : attempt.Fingerprint,
            AttemptId = attempt.Token,
            Seats = seats.Select(s => new BookingSeat { Seat = s, Active = true }).ToList()
        };
        db.Bookings.Add(booking);

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Another request with the same Idempotency-Key (or, if the rules above were wrong, the
            // same seat) got there first; nothing of this try is kept.
            await transaction.RollbackAsync(ct);
            return seats.Count > 0 ? BookingErrors.SeatTaken : BookingErrors.SoldOut;
        }

        await db.Database.RecordAsync(command.EventId, [RollupChange.Booked(now, tickets)], ct);
        await transaction.CommitAsync(ct);
        return booking;
    }

    // Tickets without seats, alone: a batch of one (TicketBatches), in one round trip.
    private async Task<Result<Booking>> TryBookTicketsAsync(BookingAttempt attempt, CancellationToken ct)
    {
        var command = attempt.Command;
        var now = timeProvider.UtcNow();
        var connection = (MySqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var ticket = attempt.Ticket;
            await using var batch = TicketBatches.Command(connection, command.EventId, [ticket], now);

            // Not cancellable once sent, and rolled back if any statement fails: a batch stopped halfway
            // would leave its transaction, and the event row's lock, open on a pooled connection.
            Booking? booking;
            try
            {
                booking = (await TicketBatches.ReadWrittenAsync(batch, command.EventId, [ticket], now)).SingleOrDefault();
            }
            catch (MySqlException ex)
            {
                // If the reply was lost after the COMMIT, the strategy asks the database by the attempt's token.
                await TicketBatches.RollBackQuietlyAsync(connection);
                if (ex.ErrorCode != MySqlErrorCode.DuplicateKeyEntry)
                {
                    throw;
                }
                // A batch that had this attempt may have written it after all (its reply lost); otherwise the
                // twin with the same Idempotency-Key won, and its booking is the answer (see RefuseAsync).
                return await FindWrittenAsync(attempt, ct) is { } made ? made : BookingErrors.SoldOut;
            }
            return booking ?? (Result<Booking>)await WhyNotBookableAsync(command.EventId, now, ct, seatsChosen: false);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    // Before retrying after a transient error the strategy asks this: a booking that carries the attempt's
    // token means a try committed although its reply was lost, and a second try would book twice.
    private async Task<ExecutionResult<Result<Booking>>> VerifyBookedAsync(DbContext _, BookingAttempt attempt, CancellationToken ct)
    {
        var written = await FindWrittenAsync(attempt, ct);
        return written is null
            ? new ExecutionResult<Result<Booking>>(false, default)
            : new ExecutionResult<Result<Booking>>(true, written);
    }

    // The booking that carries the attempt's token, if a try wrote one.
    private Task<Booking?> FindWrittenAsync(BookingAttempt attempt, CancellationToken ct) =>
        QueryBookings().SingleOrDefaultAsync(b => b.AttemptId == attempt.Token, ct);

    // Takes every one of the seats, or reports that some were taken meanwhile.
    private async Task<bool> TakeSeatsAsync(long eventId, List<long> seatIds, CancellationToken ct) =>
        seatIds.Count == await db.Seats
            .Where(s => s.EventId == eventId && seatIds.Contains(s.Id) && s.Status == SeatStatus.Available)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Booked), ct);

    // Why a conditional write took nothing, in the order BookingRules.CheckEvent reports it.
    private async Task<DomainError> WhyNotBookableAsync(long eventId, DateTime now, CancellationToken ct, bool seatsChosen = true)
    {
        var evt = await db.Events.AsNoTracking().Where(e => e.Id == eventId)
            .Select(e => new { e.Status, e.StartsAt, e.HasSeating }).SingleOrDefaultAsync(ct);
        return evt is null || evt.Status == EventStatus.Cancelled ? BookingErrors.EventNotFound
            : evt.StartsAt <= now ? BookingErrors.EventStarted
            : evt.HasSeating && !seatsChosen ? BookingErrors.SeatsRequired
            : BookingErrors.SoldOut;
    }

    // A refusal of a keyed request may only mean that its twin won the race: answer with the twin's booking.
    private async Task<Result<Booking>> RefuseAsync(BookingCommand command, DomainError error, CancellationToken ct)
    {
        if (await ReplayAsync(command, ct) is { } replay)
        {
            return replay;
        }
        metrics.Refused(error.Code);
        return error;
    }

    // The booking an Idempotency-Key already made, if any; a key reused for another request is an error.
    private async Task<Result<Booking>?> ReplayAsync(BookingCommand command, CancellationToken ct, string? fingerprint = null)
    {
        if (command.IdempotencyKey is null
            || await QueryBookings().SingleOrDefaultAsync(b => b.UserId == command.UserId && b.IdempotencyKey == command.IdempotencyKey, ct)
                is not { } first)
        {
            return null;
        }

        // Compared with what the key was first used for, not with the booking now: its seats may have changed since.
        return first.RequestFingerprint == (fingerprint ?? BookingRules.Fingerprint(command)) ? first : BookingErrors.IdempotencyKeyReused;
    }

    /// <summary>
    /// Claims a waitlist offer: the tickets (and seats) it holds become a confirmed booking, in one
    /// transaction. A repeated claim answers with the booking the first one made.
    /// </summary>
    public async Task<Result<Booking>> ClaimOfferAsync(long entryId, long userId, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var entry = await db.WaitlistEntries.AsNoTracking().SingleOrDefaultAsync(w => w.Id == entryId && w.UserId == userId, cancellationToken);
        if (entry is null)
        {
            return WaitlistErrors.NotFound;
        }
        var command = new BookingCommand(userId, entry.EventId, entry.Quantity, null, idempotencyKey);
        if (BookingRules.Validate(command) is { } invalid)
        {
            return invalid;
        }
        if (await ReplayAsync(command, cancellationToken, ClaimFingerprint(entryId)) is { } replay)
        {
            return replay;
        }
        if (entry is { Status: WaitlistStatus.Booked, BookingId: { } made })
        {
            return await QueryBookings().SingleAsync(b => b.Id == made, cancellationToken);
        }

        var attempt = new BookingAttempt(command, []) { ClaimOf = entry };
        var result = await db.Database.CreateExecutionStrategy()
            .ExecuteAsync(attempt, TryClaimAsync, VerifyBookedAsync, cancellationToken);
        if (!result.Succeeded)
        {
            metrics.Refused(result.Error!.Code);
            return result.Error!;
        }
        metrics.Made(entry.Quantity);
        return await QueryBookings().SingleAsync(b => b.Id == result.Value!.Id, cancellationToken);
    }

    private static string ClaimFingerprint(long entryId) => $"waitlist:{entryId}";

    private async Task<Result<Booking>> TryClaimAsync(DbContext _, BookingAttempt attempt, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var entry = attempt.ClaimOf!;
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // The event row's lock first, as every write; then the entry, still offered and in time: of a claim
        // and the worker's expiry (or two claims) exactly one changes it.
        var open = await db.Events.Where(e => e.Id == entry.EventId && e.Status == EventStatus.Scheduled && e.StartsAt > now)
            .ExecuteUpdateAsync(e => e.SetProperty(x => x.Version, x => x.Version + 1), ct);
        if (open == 0)
        {
            await transaction.RollbackAsync(ct);
            return await WhyNotBookableAsync(entry.EventId, now, ct);
        }
        var claimed = await db.WaitlistEntries
            .Where(w => w.Id == entry.Id && w.Status == WaitlistStatus.Offered && w.OfferExpiresAt > now)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.Status, WaitlistStatus.Booked).SetProperty(x => x.Active, (bool?)null), ct);
        if (claimed == 0)
        {
            await transaction.RollbackAsync(ct);
            var current = await db.WaitlistEntries.AsNoTracking().SingleAsync(w => w.Id == entry.Id, ct);
            return current switch
            {
                { Status: WaitlistStatus.Booked, BookingId: { } made } => await QueryBookings().SingleAsync(b => b.Id == made, ct),
                { Status: WaitlistStatus.Expired } or { Status: WaitlistStatus.Offered } => WaitlistErrors.OfferExpired,
                _ => WaitlistErrors.NoOffer
            };
        }

        // The held tickets become booked ones: Held never drops below 0 (CHECK), Booked + Held is unchanged.
        var held = await db.WaitlistEntries.Where(w => w.Id == entry.Id).Select(w => w.HeldSeatIds).SingleAsync(ct);
        var seatIds = new WaitlistEntry { HeldSeatIds = held }.HeldSeats();
        await db.Events.Where(e => e.Id == entry.EventId).ExecuteUpdateAsync(e => e
            .SetProperty(x => x.Held, x => x.Held - entry.Quantity)
            .SetProperty(x => x.Booked, x => x.Booked + entry.Quantity)
            .SetProperty(x => x.BookingsMade, x => x.BookingsMade + 1), ct);
        if (seatIds.Count > 0)
        {
            await db.Seats.Where(s => seatIds.Contains(s.Id) && s.Status == SeatStatus.Held)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Booked), ct);
        }

        var booking = new Booking
        {
            EventId = entry.EventId,
            UserId = entry.UserId,
            Quantity = entry.Quantity,
            CreatedAt = now,
            IdempotencyKey = attempt.Command.IdempotencyKey,
            RequestFingerprint = ClaimFingerprint(entry.Id),
            AttemptId = attempt.Token,
            Seats = seatIds.Select(id => new BookingSeat { SeatId = id, Active = true }).ToList()
        };
        db.Bookings.Add(booking);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // The Idempotency-Key was taken meanwhile by another request of this user.
            await transaction.RollbackAsync(ct);
            return BookingErrors.IdempotencyKeyReused;
        }
        await db.WaitlistEntries.Where(w => w.Id == entry.Id)
            .ExecuteUpdateAsync(w => w.SetProperty(x => x.BookingId, booking.Id).SetProperty(x => x.HeldSeatIds, (string?)null), ct);
        await db.Database.RecordAsync(entry.EventId, [RollupChange.Booked(now, entry.Quantity)], ct);
        await transaction.CommitAsync(ct);
        waitlistMetrics.Claimed();
        return booking;
    }

    /// <summary>Bookings with their event and seats, read-only.</summary>
    public IQueryable<Booking> QueryBookings() =>
        db.Bookings.AsNoTracking().Include(b => b.Event).Include(b => b.Seats).ThenInclude(s => s.Seat);

    /// <summary>
    /// Cancels a booking: its tickets and seats return to sale and an outbox row tells the worker to
    /// offer them to the waitlist, all in one transaction. Cancelling a cancelled booking changes nothing.
    /// </summary>
    public async Task<Result<bool>> CancelAsync(long bookingId, long callerId, bool callerIsAdmin, CancellationToken cancellationToken)
    {
        var booking = await db.Bookings.AsNoTracking().Include(b => b.Event)
            .SingleOrDefaultAsync(b => b.Id == bookingId, cancellationToken);
        if (booking is null || (booking.UserId != callerId && !callerIsAdmin))
        {
            return BookingErrors.NotFound;
        }
        if (booking.Status == BookingStatus.Cancelled)
        {
            return false;
        }
        if (booking.Event!.StartsAt <= timeProvider.UtcNow())
        {
            return BookingErrors.EventStarted;
        }

        // A retry after a lost commit finds the booking cancelled and changes nothing: no verification needed.
        var result = await db.Database.CreateExecutionStrategy()
            .ExecuteAsync(booking, (_, b, ct) => TryCancelAsync(b, ct), null, cancellationToken);
        if (result is { Succeeded: true, Value: true })
        {
            metrics.Cancelled();
        }
        return result;
    }

    private async Task<Result<bool>> TryCancelAsync(Booking booking, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = timeProvider.UtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // The event row's lock first, like every other write, while the event has not started.
        var open = await db.Events.Where(e => e.Id == booking.EventId && e.StartsAt > now)
            .ExecuteUpdateAsync(e => e.SetProperty(x => x.Version, x => x.Version + 1), ct);
        // Then flip the booking, conditional on its status: an UPDATE reads the row as committed now, so
        // of two racing cancels (or a cancel racing the event's cancel) only one changes it. A subquery
        // in the event's UPDATE would read the snapshot from before the lock wait and give the tickets
        // back twice.
        var flipped = open == 0 ? 0 : await db.Bookings
            .Where(b => b.Id == booking.Id && b.Status == BookingStatus.Confirmed)
            .ExecuteUpdateAsync(b => b
                .SetProperty(x => x.Status, BookingStatus.Cancelled)
                .SetProperty(x => x.CancelledAt, now), ct);
        if (flipped == 0)
        {
            await transaction.RollbackAsync(ct);
            var stillConfirmed = await db.Bookings.AnyAsync(b => b.Id == booking.Id && b.Status == BookingStatus.Confirmed, ct);
            return stillConfirmed ? BookingErrors.EventStarted : false;
        }

        // Only the cancel that flipped the booking gives its tickets back, and counts in the analytics.
        await db.Events.Where(e => e.Id == booking.EventId)
            .ExecuteUpdateAsync(e => e
                .SetProperty(x => x.Booked, x => x.Booked - booking.Quantity)
                .SetProperty(x => x.BookingsCancelled, x => x.BookingsCancelled + 1), ct);
        await db.Database.RecordAsync(booking.EventId, [RollupChange.Cancelled(booking.CreatedAt, booking.Quantity, now)], ct);

        // Read under the event row's lock: a seat change of this booking has committed by now.
        var seatIds = await db.BookingSeats.Where(s => s.BookingId == booking.Id && s.Active == true)
            .Select(s => s.SeatId).ToListAsync(ct);
        if (seatIds.Count > 0)
        {
            await db.BookingSeats.Where(s => s.BookingId == booking.Id && s.Active == true)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Active, (bool?)null), ct);
            await db.Seats.Where(s => seatIds.Contains(s.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Available), ct);
        }

        db.OutboxMessages.Add(new OutboxMessage
        {
            Kind = OutboxKinds.TicketsFreed, EventId = booking.EventId, Quantity = booking.Quantity, CreatedAt = now
        });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Picks or changes the seats of a confirmed booking on a seated event: the new seats are taken
    /// with the same conditional write as a booking, the old ones released, all or nothing.
    /// </summary>
    public async Task<Result<Booking>> ChangeSeatsAsync(long bookingId, long callerId, IReadOnlyList<long>? seatIds,
        CancellationToken cancellationToken)
    {
        var booking = await db.Bookings.AsNoTracking().Include(b => b.Event)
            .SingleOrDefaultAsync(b => b.Id == bookingId && b.UserId == callerId, cancellationToken);
        if (booking is null)
        {
            return BookingErrors.NotFound;
        }
        if (booking.Status != BookingStatus.Confirmed)
        {
            return BookingErrors.NotConfirmed;
        }
        if (seatIds is null || seatIds.Count != booking.Quantity || seatIds.Distinct().Count() != seatIds.Count)
        {
            return BookingErrors.InvalidSeats($"Choose exactly {booking.Quantity} different seats, one per ticket of the booking.");
        }

        var seats = await db.Seats.AsNoTracking().Where(s => seatIds.Contains(s.Id)).ToListAsync(cancellationToken);
        var command = new BookingCommand(callerId, booking.EventId, null, seatIds, null);
        if (BookingRules.CheckEvent(booking.Event, command, seats, timeProvider.UtcNow()) is { } refused)
        {
            return refused;
        }

        // A retry after a lost commit finds the seats already held by this booking: nothing left to take.
        var result = await db.Database.CreateExecutionStrategy()
            .ExecuteAsync(booking, (_, b, ct) => TrySwapSeatsAsync(b, seatIds, ct), null, cancellationToken);
        if (!result.Succeeded)
        {
            metrics.Refused(result.Error!.Code);
            return result.Error!;
        }
        return await QueryBookings().SingleAsync(b => b.Id == bookingId, cancellationToken);
    }

    private async Task<Result<bool>> TrySwapSeatsAsync(Booking booking, IReadOnlyList<long> wanted, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // Lock the event row, as bookings and cancels do, so that the reads below are current; the
        // version bump also tells a concurrent layout change that seats moved.
        var now = timeProvider.UtcNow();
        var open = await db.Events.Where(e => e.Id == booking.EventId && e.Status == EventStatus.Scheduled && e.StartsAt > now)
            .ExecuteUpdateAsync(e => e.SetProperty(x => x.Version, x => x.Version + 1), ct);
        var status = await db.Bookings.Where(b => b.Id == booking.Id).Select(b => b.Status).SingleAsync(ct);
        if (open == 0 || status != BookingStatus.Confirmed)
        {
            await transaction.RollbackAsync(ct);
            return open == 0 ? await WhyNotBookableAsync(booking.EventId, now, ct) : BookingErrors.NotConfirmed;
        }

        var held = await db.BookingSeats.Where(s => s.BookingId == booking.Id && s.Active == true)
            .Select(s => s.SeatId).ToListAsync(ct);
        var toTake = wanted.Except(held).ToList();
        var toRelease = held.Except(wanted).ToList();

        if (!await TakeSeatsAsync(booking.EventId, toTake, ct))
        {
            await transaction.RollbackAsync(ct);
            return BookingErrors.SeatTaken;
        }
        await db.Seats.Where(s => toRelease.Contains(s.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SeatStatus.Available), ct);
        // Seats given back are no part of the booking any more; a cancel, by contrast, keeps them as history.
        await db.BookingSeats.Where(s => s.BookingId == booking.Id && (toRelease.Contains(s.SeatId) || toTake.Contains(s.SeatId)))
            .ExecuteDeleteAsync(ct);
        db.BookingSeats.AddRange(toTake.Select(id => new BookingSeat { BookingId = booking.Id, SeatId = id, Active = true }));

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            await transaction.RollbackAsync(ct);
            return BookingErrors.SeatTaken;
        }
        await transaction.CommitAsync(ct);
        return true;
    }
}
