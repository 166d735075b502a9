using System.ComponentModel.DataAnnotations;

namespace Evently.Domain.Waitlist;

public sealed class WaitlistOptions
{
    public const string Section = "Evently:Waitlist";

    /// <summary>How long offered tickets are held for the entry (default 15 minutes).</summary>
    [Range(1, 24 * 60)]
    public int OfferMinutes { get; set; } = 15;

    /// <summary>Overrides <see cref="OfferMinutes"/> with a window in seconds (for tests and demos).</summary>
    [Range(1, 24 * 60 * 60)]
    public int? OfferSeconds { get; set; }

    public TimeSpan OfferWindow => OfferSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(OfferMinutes);
}
