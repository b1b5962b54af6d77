using System.Globalization;
using System.Text;

namespace Igcv2;

/// <summary>
/// One row of <see cref="ModelSummary"/>: a layer or block. <see cref="Weights"/> counts convolution and
/// FC weights as the paper does (Tables 2-6); <see cref="Parameters"/> adds BN gamma/beta and the FC bias.
/// </summary>
public sealed record SummaryRow(
    string Name,
    string Kind,
    int InChannels,
    int OutChannels,
    string K,
    int OutputSize,
    long Weights,
    long Parameters,
    long MultiplyAdds);

/// <summary>A network's layers with their counts; <see cref="ToString"/> prints an aligned table.</summary>
public sealed class ModelSummary(IReadOnlyList<SummaryRow> rows)
{
    public IReadOnlyList<SummaryRow> Rows { get; } = rows;

    public long Weights => Rows.Sum(r => r.Weights);

    public long Parameters => Rows.Sum(r => r.Parameters);

    public long MultiplyAdds => Rows.Sum(r => r.MultiplyAdds);

    public override string ToString()
    {
        string[] header = ["Name", "Kind", "In", "Out", "K", "Size", "Weights", "Parameters", "MultiplyAdds"];
        var cells = Rows.Select(r => new[]
        {
            r.Name, r.Kind, Number(r.InChannels), Number(r.OutChannels), r.K, Number(r.OutputSize),
            Number(r.Weights), Number(r.Parameters), Number(r.MultiplyAdds),
        }).ToList();
        cells.Add(["total", "", "", "", "", "", Number(Weights), Number(Parameters), Number(MultiplyAdds)]);

        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Max(c => c[i].Length))).ToArray();
        var numeric = new[] { false, false, true, true, false, true, true, true, true };
        var text = new StringBuilder();
        void Line(string[] row)
        {
            var padded = row.Select((c, i) => numeric[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]));
            text.Append(string.Join("  ", padded).TrimEnd()).Append('\n');
        }
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var row in cells.Take(cells.Count - 1)) Line(row);
        Line(widths.Select(w => new string('-', w)).ToArray());
        Line(cells[^1]);
        return text.ToString();
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
