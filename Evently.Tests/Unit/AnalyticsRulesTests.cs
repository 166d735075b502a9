using Evently.ApiService.Analytics;
using Evently.Domain.Analytics;
using Microsoft.Extensions.Time.Testing;

namespace Evently.Tests.Unit;

public sealed class DayRangeTests
{
    private static readonly DateOnly Today = new(2027, 3, 15);

    [Fact]
    public void No_bounds_mean_the_last_30_days_today_included() =>
        Assert.Equal(new DayRange(new DateOnly(2027, 2, 14), Today), DayRange.Resolve(null, null, Today).Value);

    [Fact]
    public void One_bound_fixes_the_other_by_default()
    {
        Assert.Equal(new DayRange(new DateOnly(2027, 1, 2), new DateOnly(2027, 1, 31)), DayRange.Resolve(null, new DateOnly(2027, 1, 31), Today).Value);
        Assert.Equal(new DayRange(new DateOnly(2027, 1, 1), Today), DayRange.Resolve(new DateOnly(2027, 1, 1), null, Today).Value);
    }

    [Theory]
    [InlineData("2027-03-10", "2027-03-09", "to")]
    [InlineData("2027-03-16", null, "to")]
    [InlineData("2026-01-01", "2027-01-02", "from")]
    public void Backwards_or_wider_than_366_days_is_a_field_error(string from, string? to, string field)
    {
        var range = DayRange.Resolve(DateOnly.Parse(from), to is null ? null : DateOnly.Parse(to), Today);

        Assert.False(range.Succeeded);
        Assert.Equal([field], range.Error!.Errors!.Keys);
    }

    [Theory]
    [InlineData(null, "0001-01-01", "to")]
    [InlineData(null, "0999-12-31", "to")]
    [InlineData("0001-01-01", "0001-01-30", "from")]
    [InlineData("0999-12-31", "1000-01-01", "from")]
    public void Days_before_the_year_1000_are_a_field_error_never_an_overflow(string? from, string to, string field)
    {
        var range = DayRange.Resolve(from is null ? null : DateOnly.Parse(from), DateOnly.Parse(to), Today);

        Assert.False(range.Succeeded);
        Assert.Equal([field], range.Error!.Errors!.Keys);
    }

    [Fact]
    public void The_default_range_stops_at_the_first_day() =>
        Assert.Equal(new DayRange(DayRange.FirstDay, new DateOnly(1000, 1, 5)), DayRange.Resolve(null, new DateOnly(1000, 1, 5), Today).Value);

    [Fact]
    public void A_leap_year_is_the_widest_range() =>
        Assert.Equal(366, DayRange.Resolve(new DateOnly(2028, 1, 1), new DateOnly(2028, 12, 31), Today).Value!.Days);

    [Theory]
    [InlineData(null, 10)]
    [InlineData(1, 1)]
    [InlineData(100, 100)]
    public void Top_is_1_to_100_and_10_by_default(int? top, int expected) => Assert.Equal(expected, AnalyticsService.Top(top).Value);

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    [InlineData(-5)]
    public void Top_out_of_range_is_a_field_error(int top) => Assert.Equal(["top"], AnalyticsService.Top(top).Error!.Errors!.Keys);
}

public sealed class AnalyticsCacheTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2027, 3, 15, 12, 0, 0, TimeSpan.Zero));
    private int _computed;

    private Task<(int Value, TimeSpan Age)> GetAsync(AnalyticsCache cache, string key = "k", bool refresh = false) =>
        cache.GetAsync(key, refresh, _ => Task.FromResult(++_computed), CancellationToken.None);

    [Fact]
    public async Task An_answer_is_served_until_it_is_30_seconds_old_then_computed_again()
    {
        var cache = new AnalyticsCache(_clock);
        Assert.Equal((1, TimeSpan.Zero), await GetAsync(cache));

        _clock.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1));
        Assert.Equal((1, TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1)), await GetAsync(cache));

        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal((2, TimeSpan.Zero), await GetAsync(cache));
    }

    [Fact]
    public async Task Its_age_counts_from_before_the_computation()
    {
        var cache = new AnalyticsCache(_clock);
        // A computation that takes 10 s: the data it read is 10 s old when it is stored.
        var (_, age) = await cache.GetAsync("slow", false, _ =>
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            return Task.FromResult(++_computed);
        }, CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(10), age);

        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(2, (await GetAsync(cache, "slow")).Value);
    }

    [Fact]
    public async Task A_refresh_computes_afresh_and_keys_are_apart()
    {
        var cache = new AnalyticsCache(_clock);
        await GetAsync(cache, "a");

        Assert.Equal(2, (await GetAsync(cache, "a", refresh: true)).Value);
        Assert.Equal(2, (await GetAsync(cache, "a")).Value);
        Assert.Equal(3, (await GetAsync(cache, "b")).Value);
    }
}
