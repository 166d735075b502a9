using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Evently.ApiService.Auth;
using Evently.ApiService.Infrastructure;
using Evently.Domain.Analytics;
using Evently.Domain.Common;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Evently.ApiService.Analytics;

public static class AnalyticsApi
{
    public static IEndpointRouteBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("api/analytics").WithTags("Analytics").RequireAuthorization(AuthExtensions.AdminPolicy);

        api.MapGet("/bookings", GetBookingAnalytics)
            .WithName("GetBookingAnalytics")
            .WithSummary("Booking totals and a daily series (admin): bookings counted on the UTC day they were made, " +
                "cancellations on the day they were cancelled, ticketsSold = tickets of that day's bookings still confirmed")
            .WithDescription("Every UTC day from 'from' to 'to' (both included) is listed, zeros included; by default the last " +
                "30 days, today included. The totals are the bookings made in the range, by their status now: " +
                "totalBookings = confirmedBookings + cancelledBookings, cancellationRate = cancelledBookings / totalBookings (0 " +
                "without bookings). A daily 'cancellations' counts cancellations made that day, whenever the booking was made. " +
                $"400 when 'to' is before 'from' or the range spans more than {DayRange.MaxDays} days. " + CachingNote);

        api.MapGet("/events", GetMostBookedEvents)
            .WithName("GetMostBookedEvents")
            .WithSummary("The most booked events (admin): most tickets of confirmed bookings first")
            .WithDescription("Events with at least one booking, cancelled events included, ordered by ticketsSold and then by id. " +
                "bookings and cancellations count the event's bookings ever made and those cancelled since; cancellationRate = " +
                "cancellations / bookings; utilization = ticketsSold / capacity. The event's waitlist: waiting (entries in line), " +
                "offersOpen (tickets held for an entry now), offersClaimed (offers that became bookings) and offersExpired (offers " +
                $"not claimed in time, and entries closed when the event was cancelled). 400 unless 1 <= top <= {AnalyticsService.MaxTop}. " + CachingNote);

        api.MapGet("/utilization", GetUtilization)
            .WithName("GetUtilization")
            .WithSummary("Utilization of the scheduled events (admin): booked / capacity, fullest first")
            .WithDescription("Every scheduled (not cancelled) event, past ones included; overall = the sum of their booked " +
                "tickets / the sum of their capacities. " + CachingNote);

        return app;
    }

    private const string CachingNote = "Answers may come from a cache up to 30 s old (the Age header says how old); " +
        "send 'Cache-Control: no-cache' to compute them afresh.";

    public static async Task<Results<Ok<BookingAnalytics>, ValidationProblem>> GetBookingAnalytics(
        [AsParameters] BookingAnalyticsQuery query, [AsParameters] AnalyticsServices services, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(services.TimeProvider.UtcNow());
        var range = DayRange.Resolve(query.From, query.To, today);
        if (!range.Succeeded)
        {
            return Problems.Validation(range.Error!.Errors!.ToDictionary());
        }
        var (from, to) = (range.Value!.From, range.Value.To);
        return TypedResults.Ok(await services.CachedAsync($"bookings:{from:O}:{to:O}",
            ct => services.Analytics.BookingsAsync(range.Value, ct), cancellationToken));
    }

    public static async Task<Results<Ok<List<EventAnalytics>>, ValidationProblem>> GetMostBookedEvents(
        [Description("How many events."), Range(1, AnalyticsService.MaxTop), DefaultValue(AnalyticsService.DefaultTop)] [FromQuery(Name = "top")] int? top,
        [AsParameters] AnalyticsServices services, CancellationToken cancellationToken)
    {
        var count = AnalyticsService.Top(top);
        if (!count.Succeeded)
        {
            return Problems.Validation(count.Error!.Errors!.ToDictionary());
        }
        return TypedResults.Ok(await services.CachedAsync($"events:{count.Value}",
            ct => services.Analytics.MostBookedAsync(count.Value, ct), cancellationToken));
    }

    public static async Task<Ok<UtilizationAnalytics>> GetUtilization(
        [AsParameters] AnalyticsServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.CachedAsync("utilization", services.Analytics.UtilizationAsync, cancellationToken));
}

public sealed record BookingAnalyticsQuery(
    [property: Description("First UTC day (yyyy-MM-dd), included; by default the range is the 30 days that end with 'to'.")] [FromQuery(Name = "from")] DateOnly? From,
    [property: Description("Last UTC day (yyyy-MM-dd), included; default today.")] [FromQuery(Name = "to")] DateOnly? To);

public sealed record AnalyticsServices(
    AnalyticsService Analytics,
    AnalyticsCache Cache,
    TimeProvider TimeProvider,
    HttpResponse Response,
    [property: Description("'no-cache' computes the figures afresh instead of answering from the cache.")]
    [FromHeader(Name = "Cache-Control")] string? CacheControl)
{
    /// <summary>The answer from the cache, or computed; its age in seconds goes out as the Age header.</summary>
    public async Task<T> CachedAsync<T>(string key, Func<CancellationToken, Task<T>> compute, CancellationToken cancellationToken)
        where T : notnull
    {
        var refresh = CacheControl?.Contains("no-cache", StringComparison.OrdinalIgnoreCase) == true;
        var (value, age) = await Cache.GetAsync(key, refresh, compute, cancellationToken);
        Response.Headers[HeaderNames.Age] = ((int)age.TotalSeconds).ToString();
        return value;
    }
}
