using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Evently.Domain.Bookings;
using Evently.Domain.Waitlist;
using Microsoft.AspNetCore.Mvc;

namespace Evently.ApiService.Waitlist;

/// <summary>Body of POST /api/waitlist.</summary>
public sealed record JoinWaitlistRequest(
    [property: Required, Range(1, long.MaxValue), Description("The event's id. An id below 1 is refused as invalid (400); " +
        "an id of no event, or of a cancelled one, answers 404.")] long? EventId,
    [property: Required, Range(1, BookingRules.MaxTicketsPerBooking), Description("Tickets wanted.")] int? Quantity);

public sealed record WaitlistQuery([property: Description("Only the entries of this event.")] [FromQuery(Name = "eventId")] long? EventId);

/// <summary>The contract's <c>WaitlistEntry</c>.</summary>
public sealed record WaitlistEntryResponse(
    long Id, long EventId, int Quantity,
    [property: Description("1 for the head of the line; counts only entries still waiting, 0 once the entry is out of the line.")] int Position,
    WaitlistStatus Status,
    [property: Description("Until when an offer holds the tickets (while offered).")] DateTime? OfferExpiresAt,
    DateTime CreatedAt)
{
    public static WaitlistEntryResponse From(WaitlistPlace place) => new(
        place.Entry.Id, place.Entry.EventId, place.Entry.Quantity, place.Position, place.Entry.Status,
        place.Entry.Status == WaitlistStatus.Offered ? place.Entry.OfferExpiresAt : null, place.Entry.CreatedAt);
}
