using Evently.Domain.Bookings;
using Evently.Domain.Common;
using Evently.Domain.Events;

namespace Evently.Tests.Unit;

public sealed class BookingRulesTests
{
    private static readonly DateTime Now = new(2027, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    private static BookingCommand Quantity(int? quantity) => new(1, 7, quantity, null, null);
    private static BookingCommand Seats(params long[] seatIds) => new(1, 7, null, seatIds, null);

    private static Event AnEvent(bool seated = false, DateTime? startsAt = null, EventStatus status = EventStatus.Scheduled) => new()
    {
        Id = 7, Name = "E", Venue = "V", Capacity = 10, HasSeating = seated, Status = status,
        StartsAt = startsAt ?? Now.AddDays(1), EndsAt = (startsAt ?? Now.AddDays(1)).AddHours(2)
    };

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    public void Quantities_from_one_to_ten_are_accepted(int quantity) => Assert.Null(BookingRules.Validate(Quantity(quantity)));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(11)]
    [InlineData(null)]
    public void Other_quantities_are_refused(int? quantity)
    {
        var error = BookingRules.Validate(Quantity(quantity));

        Assert.Equal(ErrorKind.Invalid, error?.Kind);
        Assert.Contains("quantity", error!.Errors!.Keys);
    }

    [Fact]
    public void Seats_must_be_distinct_and_agree_with_a_given_quantity()
    {
        Assert.Null(BookingRules.Validate(Seats(1, 2)));
        Assert.Contains("seatIds", BookingRules.Validate(Seats(1, 1))!.Errors!.Keys);
        Assert.Contains("seatIds", BookingRules.Validate(Seats())!.Errors!.Keys);
        Assert.Contains("quantity", BookingRules.Validate(new BookingCommand(1, 7, 3, [1, 2], null))!.Errors!.Keys);
        Assert.Null(BookingRules.Validate(new BookingCommand(1, 7, 2, [1, 2], null)));
    }

    [Fact]
    public void An_idempotency_key_may_have_up_to_64_characters()
    {
        Assert.Null(BookingRules.Validate(Quantity(1) with { IdempotencyKey = new string('k', 64) }));
        Assert.NotNull(BookingRules.Validate(Quantity(1) with { IdempotencyKey = new string('k', 65) }));
    }

    [Fact]
    public void A_started_event_is_unprocessable() =>
        Assert.Equal(BookingErrors.EventStarted, BookingRules.CheckEvent(AnEvent(startsAt: Now), Quantity(1), [], Now));

    [Fact]
    public void Unknown_and_cancelled_events_are_not_found()
    {
        Assert.Equal(BookingErrors.EventNotFound, BookingRules.CheckEvent(null, Quantity(1), [], Now));
        Assert.Equal(BookingErrors.EventNotFound, BookingRules.CheckEvent(AnEvent(status: EventStatus.Cancelled), Quantity(1), [], Now));
    }

    [Fact]
    public void A_seated_event_needs_seats_of_its_own()
    {
        var seated = AnEvent(seated: true);
        var own = new Seat { Id = 1, EventId = 7, Section = "S", Row = "A", Number = 1 };
        var foreign = new Seat { Id = 2, EventId = 8, Section = "S", Row = "A", Number = 1 };

        Assert.Equal(BookingErrors.SeatsRequired, BookingRules.CheckEvent(seated, Quantity(1), [], Now));
        Assert.Null(BookingRules.CheckEvent(seated, Seats(1), [own], Now));
        Assert.Equal(ErrorKind.Invalid, BookingRules.CheckEvent(seated, Seats(1, 2), [own, foreign], Now)?.Kind);
        Assert.Equal(ErrorKind.Invalid, BookingRules.CheckEvent(seated, Seats(1, 3), [own], Now)?.Kind);
        Assert.Equal(ErrorKind.Invalid, BookingRules.CheckEvent(AnEvent(), Seats(1), [own], Now)?.Kind);
    }

    [Fact]
    public void Tickets_count_seats_or_the_quantity()
    {
        Assert.Equal(3, BookingRules.Tickets(Seats(1, 2, 3)));
        Assert.Equal(4, BookingRules.Tickets(Quantity(4)));
    }
}
