using Evently.Domain.Common;

namespace Evently.Domain.Waitlist;

public static class WaitlistErrors
{
    public static readonly DomainError NotFound = DomainError.NotFound("The waitlist entry");

    public static readonly DomainError NotSoldOut = new(ErrorKind.Conflict, "not-sold-out",
        "Tickets are still available for this event: book them instead of joining the waitlist.");

    public static readonly DomainError AlreadyWaiting = new(ErrorKind.Conflict, "already-waiting",
        "You are already on the waitlist of this event.");

    public static readonly DomainError OfferExpired = new(ErrorKind.Conflict, "offer-expired",
        "The offer has expired; its tickets went to the next in line.");

    public static readonly DomainError NoOffer = new(ErrorKind.Conflict, "no-offer",
        "There is no open offer for this entry yet: you will be notified when tickets are offered to you.");

    public static readonly DomainError NotWaiting = new(ErrorKind.Conflict, "not-waiting",
        "This entry is no longer in the line: it was booked, or it expired.");

    public static DomainError InvalidQuantity(int max) => new(ErrorKind.Invalid, "validation",
        "One or more fields are invalid; see 'errors'.",
        new Dictionary<string, string[]> { ["quantity"] = [$"quantity must be between 1 and {max}."] });
}
