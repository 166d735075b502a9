namespace Evently.Domain.Events;

public sealed record SeatSection(string Name, int Rows, int SeatsPerRow);

// Seats are named section / row / number: rows A, B, ... (then AA, AB, ... past Z), numbers from 1.
public static class SeatLayout
{
    public static List<Seat> Create(IEnumerable<SeatSection> sections) =>
        sections.SelectMany(section =>
                Enumerable.Range(0, section.Rows).SelectMany(row =>
                    Enumerable.Range(1, section.SeatsPerRow).Select(number => new Seat
                    {
                        Section = section.Name,
                        Row = RowName(row),
                        Number = number
                    })))
            .ToList();

    public static string RowName(int index) =>
        index < 26 ? ((char)('A' + index)).ToString() : RowName(index / 26 - 1) + (char)('A' + index % 26);
}

public static class SeatOrdering
{
    /// <summary>Section, then row (A..Z before AA), then number: the order a venue's plan reads in.</summary>
    public static IOrderedQueryable<Seat> InSeatOrder(this IQueryable<Seat> seats) =>
        seats.OrderBy(s => s.Section).ThenBy(s => s.Row.Length).ThenBy(s => s.Row).ThenBy(s => s.Number);
}
