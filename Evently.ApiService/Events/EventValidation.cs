using Evently.Domain.Events;

namespace Evently.ApiService.Events;

// Shape rules for an event body, checked before anything touches the database.
// The limits are also declared on the request records, for the OpenAPI document (see OpenApiSchemaRules).
internal static class EventValidation
{
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 4000;
    public const int MaxSectionNameLength = 50;
    public const int MaxRows = 100;
    public const int MaxSeatsPerRow = 500;
    public const int MaxSections = 50;
    public const int MaxSeats = 100_000;
    private static readonly StringComparer SectionNameComparer = StringComparer.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        System.Globalization.CompareOptions.IgnoreCase | System.Globalization.CompareOptions.IgnoreNonSpace);

    /// <param name="previousStartsAt">On update, the start time already stored: it may stay in the past.</param>
    public static Dictionary<string, string[]> Validate(CreateEventRequest request, DateTime now, DateTime? previousStartsAt = null)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message) =>
            (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > MaxNameLength)
        {
            Add("name", $"A name of 1 to {MaxNameLength} characters is required.");
        }
        if (string.IsNullOrWhiteSpace(request.Venue) || request.Venue.Trim().Length > MaxNameLength)
        {
            Add("venue", $"A venue of 1 to {MaxNameLength} characters is required.");
        }
        if (request.Description?.Length > MaxDescriptionLength)
        {
            Add("description", $"The description may be at most {MaxDescriptionLength} characters long.");
        }

        if (request.StartsAt is not { } startsAt)
        {
            Add("startsAt", "startsAt is required.");
        }
        else if (startsAt.UtcDateTime < now && startsAt.UtcDateTime != previousStartsAt)
        {
            Add("startsAt", "startsAt must be in the future.");
        }
        if (request.EndsAt is not { } endsAt)
        {
            Add("endsAt", "endsAt is required.");
        }
        else if (request.StartsAt is { } start && endsAt <= start)
        {
            Add("endsAt", "endsAt must be after startsAt.");
        }

        if (request.SalesStartAt is { } salesStartAt && request.StartsAt is { } starts && salesStartAt >= starts)
        {
            Add("salesStartAt", "salesStartAt must be before startsAt.");
        }

        if (request.Capacity is not >= 1)
        {
            Add("capacity", "capacity must be at least 1.");
        }

        if (request.Seating is { } seating)
        {
            var sections = seating.Sections ?? [];
            if (sections.Count is 0 or > MaxSections)
            {
                Add("seating.sections", $"A seat layout needs 1 to {MaxSections} sections.");
            }
            for (var i = 0; i < sections.Count; i++)
            {
                if (sections[i] is not { } section)
                {
                    Add($"seating.sections[{i}]", "A section must be an object with name, rows and seatsPerRow.");
                    continue;
                }
                if (string.IsNullOrWhiteSpace(section.Name) || section.Name.Trim().Length > MaxSectionNameLength)
                {
                    Add($"seating.sections[{i}].name", $"A section name of 1 to {MaxSectionNameLength} characters is required.");
                }
                if (section.Rows is < 1 or > MaxRows)
                {
                    Add($"seating.sections[{i}].rows", $"rows must be between 1 and {MaxRows}.");
                }
                if (section.SeatsPerRow is < 1 or > MaxSeatsPerRow)
                {
                    Add($"seating.sections[{i}].seatsPerRow", $"seatsPerRow must be between 1 and {MaxSeatsPerRow}.");
                }
            }
            // Compared as the database compares them: case and accents do not count.
            var names = sections.Select(s => s?.Name?.Trim()).OfType<string>();
            if (names.GroupBy(name => name, SectionNameComparer).Any(g => g.Count() > 1))
            {
                Add("seating.sections", "Section names must be unique (ignoring case and accents).");
            }
            var seats = sections.OfType<SeatSectionRequest>().Sum(s => Math.Max(0, s.Rows) * (long)Math.Max(0, s.SeatsPerRow));
            if (seats > MaxSeats)
            {
                Add("seating.sections", $"A seat layout may have at most {MaxSeats:N0} seats.");
            }
            else if (request.Capacity is { } capacity && seats != capacity)
            {
                Add("capacity", $"capacity must equal the number of seats in the layout ({seats}).");
            }
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }

    /// <summary>The rules that do not depend on the time: those a repeated create must still meet.</summary>
    public static bool IsWellFormed(CreateEventRequest request) => Validate(request, DateTime.MinValue).Count == 0;

    public static EventDraft ToDraft(CreateEventRequest request) => new(
        request.Name!.Trim(),
        request.Description?.Trim() ?? "",
        request.Venue!.Trim(),
        request.StartsAt!.Value.UtcDateTime,
        request.EndsAt!.Value.UtcDateTime,
        request.Capacity!.Value,
        request.HighDemand ?? false,
        request.Seating?.Sections?.Select(s => new SeatSection(s!.Name!.Trim(), s.Rows, s.SeatsPerRow)).ToList(),
        request.SalesStartAt?.UtcDateTime);
}
