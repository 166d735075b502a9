using Evently.Domain.Idempotency;
using Evently.Domain.Waitlist;
using Microsoft.Extensions.DependencyInjection;

namespace Evently.Domain.Bookings;

public static class BookingRegistration
{
    /// <summary>
    /// The booking commands and the rules they share, per scope (they work on the scope's DbContext). Group commit
    /// (<see cref="TicketBatches"/>, a singleton) is the API's to add: without it every direct booking is written alone.
    /// </summary>
    public static IServiceCollection AddBookingCommands(this IServiceCollection services) => services
        .AddIdempotencyLedger()
        .AddScoped<BookingReads>()
        .AddScoped<BookingReplay>()
        .AddScoped<BookTickets>()
        .AddScoped<CancelBooking>()
        .AddScoped<ChangeSeats>()
        .AddScoped<ClaimOffer>()
        .AddScoped<QueueIntake>()
        .AddWaitlistOffers();
}
