using Evently.Tests.Bookings;
using Microsoft.EntityFrameworkCore;

namespace Evently.Tests.Notifications;

// The rejection of a queued request is shown in the app only: its buyer is watching the request when it is answered,
// and an on-sale rejects most requests. Confirmations are still mailed.
[Collection(AppCollection.Name)]
public sealed class QueuedRejectionNotificationTests(EventlyAppFixture fixture)
{
    [Fact]
    public async Task A_rejected_queued_request_makes_a_notification_and_no_mail()
    {
        using var admin = await fixture.AdminAsync();
        using var winner = await fixture.NewUserAsync();
        using var loser = await fixture.NewUserAsync();
        var soldOut = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1, highDemand: true));
        var later = await admin.CreateEventAsync(TestApi.NewEventBody(capacity: 1, highDemand: true));

        Assert.Equal("confirmed", (await AnsweredAsync(winner, await winner.BookAsync(soldOut.Id, 1))).Status);
        var rejected = await AnsweredAsync(loser, await loser.BookAsync(soldOut.Id, 1));
        Assert.Equal(("rejected", "sold-out"), (rejected.Status, rejected.Reason));
        // Then a confirmation for the same buyer: a notification made after the rejection, and mailed.
        Assert.Equal("confirmed", (await AnsweredAsync(loser, await loser.BookAsync(later.Id, 1))).Status);

        var notifications = await loser.NotificationsAsync();
        var rejection = Assert.Single(notifications, n => n.Kind == "booking-rejected");
        Assert.Equal(soldOut.Id, rejection.EventId);
        var confirmation = Assert.Single(notifications, n => n.Kind == "booking-confirmed");
        Assert.True(rejection.Id < confirmation.Id);
        // The sender takes mails in id order: once the later confirmation is mailed, a mailed rejection would have been too.
        await using var db = fixture.CreateDbContext();
        await WaitlistTestApi.EventuallyAsync(
            async () => await db.Notifications.AsNoTracking().AnyAsync(n => n.Id == confirmation.Id && n.EmailedAt != null),
            TimeSpan.FromSeconds(20), "the confirmation's mail");
        await WaitlistTestApi.EventuallyAsync(async () => (await fixture.MailsAsync()).Any(m => m.Contains(loser.User.Email)),
            TimeSpan.FromSeconds(10), "the confirmation at the mail server");

        var row = await db.Notifications.AsNoTracking().SingleAsync(n => n.Id == rejection.Id);
        Assert.Null(row.EmailedAt);
        var toLoser = (await fixture.MailsAsync()).Where(m => m.Contains(loser.User.Email)).ToList();
        Assert.Single(toLoser);
        Assert.DoesNotContain("not confirmed", toLoser[0]);
    }

    private static async Task<BookingRequestDto> AnsweredAsync(Caller caller, HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var requestId = (await response.Content.ReadFromJsonAsync<BookingRequestDto>())!.RequestId;
        BookingRequestDto? state = null;
        await WaitlistTestApi.EventuallyAsync(async () =>
        {
            state = await caller.Http.GetFromJsonAsync<BookingRequestDto>($"/api/bookings/requests/{requestId}");
            return state!.Status != "queued";
        }, TimeSpan.FromSeconds(30), $"the answer to request {requestId}");
        return state!;
    }
}
