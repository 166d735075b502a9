using System.Data;
using Evently.Domain.Analytics;
using Evently.Domain.Common;
using Evently.Domain.Events;
using Evently.Domain.Idempotency;
using Evently.Domain.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace Evently.Domain.Bookings;

/// <summary>
/// Books tickets directly (an event that is not high-demand): a quantity, or chosen seats. The tickets are taken
/// by one conditional write (<see cref="Capacity.TakeForDirectBookingsSql"/>) that InnoDB evaluates under the event row's
/// lock, so two bookings can never both see the same free tickets; seats are taken the same way, all or none. A
/// repeated Idempotency-Key answers with its first outcome (<see cref="BookingReplay"/>).
/// </summary>
public sealed class BookTickets(
    EventlyDbContext db, TimeProvider timeProvider, BookingReads reads, BookingReplay replay, IdempotencyLedger ledger,
    BookingMetrics metrics, TicketBatches? batches = null)
{
    public Task<Result<BookingOutcome>> HandleAsync(BookingCommand command, CancellationToken cancellationToken) =>
        HandleAsync(command, null, cancellationToken);

    /// <param name="facts">The event's cached facts, when the caller has them: a booking before the sale opens is refused without a write.</param>
    public async Task<Result<BookingOutcome>> HandleAsync(BookingCommand command, EventFacts? facts, CancellationToken cancellationToken)
    {
        if (BookingRules.Validate(command) is { } invalid)
        {
            return invalid;
        }
        var fingerprint = BookingRules.Fingerprint(command);
        if (await replay.FindAsync(command.UserId, command.IdempotencyKey, fingerprint, cancellationToken) is { } repeat)
        {
            return repeat;
        }
        if (facts is not null && BookingRules.CheckOnSale(facts, timeProvider.UtcNow()) is { } notYet)
        {
            return await RefuseAsync(command, fingerprint, notYet, cancellationToken);
        }

        // Tickets without seats need no read first: the conditional write checks the event itself, and its
        // reasons are read only when it refuses. Chosen seats are checked against the event beforehand.
        List<Seat> seats = [];
        Event? evt = null;
        if (command.SeatIds is { } seatIds)
        {
            evt = await db.Events.AsNoTracking().SingleOrDefaultAsync(e => e.Id == command.EventId, cancellationToken);
            seats = await db.Seats.AsNoTracking().Where(s => seatIds.Contains(s.Id)).ToListAsync(cancellationToken);
            var read = evt is null ? null : EventFacts.Of(evt, seats);
            if ((BookingRules.CheckEvent(read, command, timeProvider.UtcNow()) ?? BookingRules.CheckOnSale(read!, timeProvider.UtcNow())
                    ?? (read!.HighDemand ? BookingErrors.HighDemand : null)) is { } refused)
            {
                return await RefuseAsync(command, fingerprint, refused, cancellationToken);
            }
        }

        var attempt = new Attempt(command, fingerprint, seats, evt);
        // Tickets are written with the other direct bookings of the next batch, of any event; what a batch cannot
        // write of its event whole is booked alone, with the exact refusals and the retries.
        if (seats.Count == 0 && batches is not null
            && await batches.BookAsync(attempt.Ticket, timeProvider.UtcNow(), cancellationToken) is { } batched)
        {
            metrics.Made(batched.Quantity);
            return BookingOutcome.Booked(batched);
        }
        var result = await db.Database.CreateExecutionStrategy()
            .ExecuteAsync(attempt, TryBookAsync, VerifyBookedAsync, cancellationToken);
        if (!result.Succeeded)
        {
            return await RefuseAsync(command, fingerprint, result.Error!, cancellationToken);
        }
        metrics.Made(result.Value!.Quantity);
        return BookingOutcome.Booked(result.Value);
    }

    // Event: the event as read for chosen seats, which the booking answers with (its name).
    private sealed record Attempt(BookingCommand Command, string Fingerprint, List<Seat> Seats, Event? Event)
    {
        // Stored with the booking by whichever try writes it: the database answers whether that happened.
        public Guid Token { get; } = Guid.NewGuid();

        public TicketBatches.Ticket Ticket => new(Command.EventId, Command.UserId, BookingRules.Tickets(Command), Command.IdempotencyKey, Fingerprint, Token);
    }

    // One try, in one transaction: take the tickets, take the seats, write the booking and its key's record.
    private async Task<Result<Booking>> TryBookAsync(DbContext _, Attempt attempt, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        if (attempt.Seats.Count == 0)
        {
            return await TryBookTicketsAsync(attempt, ct);
        }
        var (command, seats) = (attempt.Command, attempt.Seats);
        var now = timeProvider.UtcNow();
        var tickets = BookingRules.Tickets(command);
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        var taken = await db.Database.ExecuteSqlRawAsync(Capacity.TakeForDirectBookingsSql,
            [new MySqlParameter("@eventId", command.EventId), new MySqlParameter("@tickets", tickets), new MySqlParameter("@count", 1),
                new MySqlParameter("@now", now)], ct);
        if (taken == 0)
        {
            await transaction.RollbackAsync(ct);
            return await reads.WhyNotBookableAsync(command.EventId, now, ct, direct: true);
        }
        if (!await SeatWrites.TryTakeAsync(db, command.EventId, seats.Select(s => s.Id).ToList(), ct))
        {
            await transaction.RollbackAsync(ct);
            return BookingErrors.SeatTaken;
        }

        db.Seats.AttachRange(seats);
        db.Events.Attach(attempt.Event!);
        var booking = new Booking
        {
            EventId = command.EventId,
            Event = attempt.Event,
            UserId = command.UserId,
            Quantity = tickets,
            CreatedAt = now,
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
            // If the rules above were wrong, the unique index on (SeatId, Active) refuses a second holder of a seat.
            await transaction.RollbackAsync(ct);
            return BookingErrors.SeatTaken;
        }
        if (!await ledger.TryRecordAsync(command.UserId, command.IdempotencyKey, attempt.Fingerprint, IdempotentOutcome.Booking, booking.Id, now, ct))
        {
            // A request with the same key got there first: nothing of this try is kept, and its outcome answers (RefuseAsync).
            await transaction.RollbackAsync(ct);
            return BookingErrors.SoldOut;
        }
        await db.Database.RecordAsync(command.EventId, [RollupChange.Booked(now, tickets)], ct);
        await transaction.CommitAsync(ct);
        return booking;
    }

    // Tickets without seats, alone: a batch of one (TicketBatches), in one round trip.
    private async Task<Result<Booking>> TryBookTicketsAsync(Attempt attempt, CancellationToken ct)
    {
        var command = attempt.Command;
        var now = timeProvider.UtcNow();
        var connection = (MySqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var ticket = attempt.Ticket;
            await using var batch = TicketBatches.Command(connection, [ticket], now);

            // Not cancellable once sent, and rolled back if any statement fails: a batch stopped halfway
            // would leave its transaction, and the event row's lock, open on a pooled connection.
            Booking? booking;
            try
            {
                booking = (await TicketBatches.ReadWrittenAsync(batch, [ticket], now)).SingleOrDefault();
            }
            catch (MySqlException ex)
            {
                // If the reply was lost after the COMMIT, the strategy asks the database by the attempt's token.
                await TicketBatches.RollBackQuietlyAsync(connection);
                if (ex.ErrorCode != MySqlErrorCode.DuplicateKeyEntry)
                {
                    throw;
                }
                // A batch that had this attempt may have written it after all (its reply lost); otherwise a request
                // with the same key won, and its outcome is the answer (see RefuseAsync).
                return await reads.FindWrittenAsync(attempt.Token, ct) is { } made ? made : BookingErrors.SoldOut;
            }
            return booking ?? (Result<Booking>)await reads.WhyNotBookableAsync(command.EventId, now, ct, seatsChosen: false, direct: true);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    // Before retrying after a transient error the strategy asks this: a booking that carries the attempt's
    // token means a try committed although its reply was lost, and a second try would book twice.
    private async Task<ExecutionResult<Result<Booking>>> VerifyBookedAsync(DbContext _, Attempt attempt, CancellationToken ct) =>
        await reads.FindWrittenAsync(attempt.Token, ct) is { } written
            ? new ExecutionResult<Result<Booking>>(true, written)
            : new ExecutionResult<Result<Booking>>(false, default);

    // A refusal of a keyed request may only mean that a request with the same key won the race: answer with its outcome.
    private async Task<Result<BookingOutcome>> RefuseAsync(BookingCommand command, string fingerprint, DomainError error, CancellationToken ct)
    {
        if (await replay.FindAsync(command.UserId, command.IdempotencyKey, fingerprint, ct) is { } repeat)
        {
            return repeat;
        }
        metrics.Refused(error.Code);
        return error;
    }
}
