using Evently.ApiService.Auth;
using Evently.ApiService.Events;
using Evently.Domain.Events;

namespace Evently.Tests.Unit;

public sealed class EventValidationTests
{
    private static readonly DateTime Now = new(2027, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private static CreateEventRequest Valid(int capacity = 10, SeatingRequest? seating = null) => new(
        "Concert", "Hall", Now.AddDays(1), Now.AddDays(1).AddHours(2), capacity, "Loud", false, seating);

    [Fact]
    public void A_valid_event_has_no_errors() => Assert.Empty(EventValidation.Validate(Valid(), Now));

    [Fact]
    public void Each_broken_rule_names_its_field()
    {
        var errors = EventValidation.Validate(
            Valid() with { Name = " ", EndsAt = Now.AddMinutes(-2), Capacity = 0, StartsAt = Now.AddMinutes(-1) }, Now);

        Assert.Equal(["capacity", "endsAt", "name", "startsAt"], errors.Keys.Order());
    }

    [Fact]
    public void A_seat_layout_must_match_the_capacity()
    {
        var seating = new SeatingRequest([new SeatSectionRequest("Stalls", 2, 5), new SeatSectionRequest("Box", 1, 2)]);

        Assert.Empty(EventValidation.Validate(Valid(capacity: 12, seating: seating), Now));
        Assert.Contains("capacity", EventValidation.Validate(Valid(capacity: 10, seating: seating), Now).Keys);
    }

    [Fact]
    public void Seat_sections_need_unique_names_and_sensible_sizes()
    {
        var seating = new SeatingRequest([new SeatSectionRequest("A", 1, 1), new SeatSectionRequest("a", 0, 1)]);

        var errors = EventValidation.Validate(Valid(capacity: 1, seating: seating), Now);

        Assert.Contains("seating.sections", errors.Keys);
        Assert.Contains("seating.sections[1].rows", errors.Keys);
    }

    [Fact]
    public void A_seat_layout_has_a_size_limit()
    {
        var huge = new SeatingRequest(Enumerable.Range(1, 3).Select(i => new SeatSectionRequest($"S{i}", 100, 500)).ToList());
        var many = new SeatingRequest(Enumerable.Range(1, 51).Select(i => new SeatSectionRequest($"S{i}", 1, 1)).ToList());

        Assert.Contains("seating.sections", EventValidation.Validate(Valid(capacity: 150_000, seating: huge), Now).Keys);
        Assert.Contains("seating.sections", EventValidation.Validate(Valid(capacity: 51, seating: many), Now).Keys);
    }

    [Fact]
    public void An_update_may_keep_a_start_time_already_in_the_past()
    {
        var started = Valid() with { StartsAt = Now.AddHours(-1) };

        Assert.Empty(EventValidation.Validate(started, Now, previousStartsAt: Now.AddHours(-1)));
        Assert.Contains("startsAt", EventValidation.Validate(started, Now, previousStartsAt: Now.AddHours(-2)).Keys);
    }
}

public sealed class RegistrationValidationTests
{
    [Theory]
    [InlineData("ada@example.com", "password123", "Ada", new string[0])]
    [InlineData("ada@example", "password123", "Ada", new[] { "email" })]
    [InlineData("Ada <ada@example.com>", "password123", "Ada", new[] { "email" })]
    [InlineData("ada@example.com", "1234567", "Ada", new[] { "password" })]
    [InlineData("ada@example.com", "password123", "  ", new[] { "name" })]
    public void Registration_rules(string email, string password, string name, string[] fields) =>
        Assert.Equal(fields, AuthApi.Validate(new RegisterRequest(email, password, name)).Keys.Order());
}

public sealed class SeatLayoutTests
{
    [Theory]
    [InlineData(0, "A")]
    [InlineData(25, "Z")]
    [InlineData(26, "AA")]
    [InlineData(27, "AB")]
    public void Rows_are_lettered(int index, string name) => Assert.Equal(name, SeatLayout.RowName(index));

    [Fact]
    public void A_layout_numbers_seats_from_one_in_every_row()
    {
        var seats = SeatLayout.Create([new SeatSection("Stalls", 2, 3)]);

        Assert.Equal(["A1", "A2", "A3", "B1", "B2", "B3"], seats.Select(s => s.Row + s.Number));
    }
}
