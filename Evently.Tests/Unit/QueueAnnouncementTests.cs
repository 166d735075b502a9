using Evently.Domain.Bookings;

namespace Evently.Tests.Unit;

// The worker's announcements as its Lua scripts write them (QueueReader's acknowledgement, QueueOpening's shuffle), read
// by every API replica's request streams; anything else on the channel (an older worker's bare mark) carries nothing.
public sealed class QueueAnnouncementTests
{
    [Fact]
    public void Answers_carry_the_booking_of_a_confirmation_and_the_reason_of_a_rejection()
    {
        var announced = QueueAnnouncement.Parse("answers 42\n268435457 confirmed 901\n268435458 rejected sold-out");

        Assert.Equal(
            [new AnnouncedAnswer(268435457, BookingRequestStatus.Confirmed, 901, null), new AnnouncedAnswer(268435458, BookingRequestStatus.Rejected, null, "sold-out")],
            announced.Answers);
        Assert.Empty(announced.Placed);
    }

    [Fact]
    public void The_opening_carries_every_place_drawn()
    {
        var announced = QueueAnnouncement.Parse("placed\n268435459 1\n268435457 2");

        Assert.Equal([(268435459L, 1L), (268435457L, 2L)], announced.Placed);
        Assert.Empty(announced.Answers);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("opened")]
    [InlineData("")]
    [InlineData(null)]
    public void Any_other_message_carries_nothing(string? message)
    {
        var announced = QueueAnnouncement.Parse(message);

        Assert.Empty(announced.Placed);
        Assert.Empty(announced.Answers);
    }
}
