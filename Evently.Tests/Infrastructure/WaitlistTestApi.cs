using System.Diagnostics;
using Aspire.Hosting.Testing;
using System.Text.Json;

namespace Evently.Tests.Infrastructure;

public sealed record WaitlistEntryDto(long Id, long EventId, int Quantity, int Position, string Status, DateTime? OfferExpiresAt, DateTime CreatedAt);
public sealed record NotificationDto(long Id, string Kind, long? EventId, string Message, DateTime CreatedAt, DateTime? ReadAt);

public static class WaitlistTestApi
{
    public static Task<HttpResponseMessage> JoinWaitlistAsync(this Caller caller, long eventId, int quantity) =>
        caller.Http.PostAsJsonAsync("/api/waitlist", new { eventId, quantity });

    public static async Task<WaitlistEntryDto> JoinedAsync(this Task<HttpResponseMessage> join)
    {
        var response = await join;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<WaitlistEntryDto>())!;
    }

    public static async Task<WaitlistEntryDto> EntryAsync(this Caller caller, long entryId)
    {
        var page = (await caller.Http.GetFromJsonAsync<PageDto<WaitlistEntryDto>>("/api/waitlist?pageSize=100"))!;
        return page.Items.Single(e => e.Id == entryId);
    }

    public static async Task<List<NotificationDto>> NotificationsAsync(this Caller caller) =>
        (await caller.Http.GetFromJsonAsync<PageDto<NotificationDto>>("/api/notifications?pageSize=100"))!.Items;

    /// <summary>Polls until the condition holds, and says how long it took; fails after the timeout.</summary>
    public static async Task<TimeSpan> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < timeout, $"{what} did not happen within {timeout.TotalSeconds} s");
            await Task.Delay(50);
        }
        return watch.Elapsed;
    }

    /// <summary>The mails the dev mail server (smtp4dev) received, as raw JSON, through its REST API.</summary>
    public static async Task<List<string>> MailsAsync(this EventlyAppFixture fixture)
    {
        using var http = new HttpClient { BaseAddress = fixture.App.GetEndpoint("smtp", "http") };
        var messages = await http.GetFromJsonAsync<JsonElement>("/api/messages?pageSize=1000");
        var list = messages.ValueKind == JsonValueKind.Array ? messages : messages.GetProperty("results");
        return list.EnumerateArray().Select(m => m.GetRawText()).ToList();
    }
}
