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
        Assert.Equal(BookingErrors.EventStarted, BookingRules.CheckEvent(Facts(AnEvent(startsAt: Now), []), Quantity(1), Now));

    [Fact]
    public void Unknown_and_cancelled_events_are_not_found()
    {
        Assert.Equal(BookingErrors.EventNotFound, BookingRules.CheckEvent(Facts(null, []), Quantity(1), Now));
        Assert.Equal(BookingErrors.EventNotFound, BookingRules.CheckEvent(Facts(AnEvent(status: EventStatus.Cancelled), []), Quantity(1), Now));
    }

    [Fact]
    public void A_seated_event_needs_seats_of_its_own()
    {
        var seated = AnEvent(seated: true);
        var own = new Seat { Id = 1, EventId = 7, Section = "S", Row = "A", Number = 1 };
        var foreign = new Seat { Id = 2, EventId = 8, Section = "S", Row = "A", Number = 1 };

        Assert.Equal(BookingErrors.SeatsRequired, BookingRules.CheckEvent(Facts(seated, []), Quantity(1), Now));
        Assert.Null(BookingRules.CheckEvent(Facts(seated, [own]), Seats(1), Now));
        Assert.Equal(ErrorKind.Invalid, BookingRules.CheckEvent(Facts(seated, [own, foreign]), Seats(1, 2), Now)?.Kind);
        Assert.Equal(ErrorKind.Invalid, BookingRules.CheckEvent(Facts(seated, [own]), Seats(1, 3), Now)?.Kind);
        Assert.Equal(ErrorKind.Invalid, BookingRules.CheckEvent(Facts(AnEvent(), [own]), Seats(1), Now)?.Kind);
    }

    // The facts the booking paths check: the event as read, with the seats looked up for the booking.
    private static EventFacts? Facts(Event? evt, Seat[] seats) => evt is null ? null : EventFacts.Of(evt, seats);

    [Fact]
    public void Seat_ranges_answer_which_seats_are_the_events()
    {
        var facts = new EventFacts(7, EventStatus.Scheduled, Now.AddDays(1), false, true, [new SeatIdRange(10, 19), new SeatIdRange(30, 30), new SeatIdRange(40, 45)]);
        Assert.All(new long[] { 10, 15, 19, 30, 40, 45 }, id => Assert.True(facts.HasSeat(id)));
        Assert.All(new long[] { 9, 20, 29, 31, 39, 46, 1000 }, id => Assert.False(facts.HasSeat(id)));
    }

    [Fact]
    public void Tickets_count_seats_or_the_quantity()
    {
        Assert.Equal(3, BookingRules.Tickets(Seats(1, 2, 3)));
        Assert.Equal(4, BookingRules.Tickets(Quantity(4)));
    }
}
