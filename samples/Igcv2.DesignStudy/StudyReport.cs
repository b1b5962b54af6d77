using System.Globalization;
using System.Text;
using ScottPlot;

namespace Igcv2.Samples.DesignStudy;

/// <summary>One trained network's outcome.</summary>
public sealed record StudyResult(string Network, int Seed, double TestAccuracy, double TrainAccuracy, double Seconds, double ImagesPerSecond);

/// <summary>The study's CSV, console summary and the two figures.</summary>
public static class StudyReport
{
    // The paper's Figure 2 colours: red complementary, blue dense but redundant, green sparse.
    private static readonly Color Complementary = Colors.Crimson;
    private static readonly Color Redundant = Colors.SteelBlue;
    private static readonly Color Sparse = Colors.SeaGreen;

    public static void WriteCsv(string path, IReadOnlyList<StudyResult> results)
    {
        var byName = Variants.All.ToDictionary(v => v.Name);
        var text = new StringBuilder("network,figure,L,K,C,block_weights,parameters,paths_per_pair,density,kind,seed,test_accuracy,train_accuracy,seconds,images_per_second\n");
        foreach (var r in results)
        {
            var v = byName[r.Network];
            var figure = string.Join("+", new[] { Variants.VaryL.Contains(v) ? "3" : null, Variants.VaryK.Contains(v) ? "2" : null }.Where(f => f is not null));
            text.Append(Inv($"{v.Name},{figure},{v.L},\"{v.KText}\",{v.C},{v.BlockWeights},{v.ParameterCount},{v.PathsPerPair:0.####},{v.Density:0.####},{v.Kind},{r.Seed},{r.TestAccuracy:0.####},{r.TrainAccuracy:0.####},{r.Seconds:0.#},{r.ImagesPerSecond:0}")).Append('\n');
        }
        File.WriteAllText(path, text.ToString());
    }

    public static void PrintSummary(IReadOnlyList<Variant> variants, IReadOnlyList<StudyResult> results)
    {
        Console.WriteLine();
        Console.WriteLine($"{"network",-8} {"L",2} {"K",-18} {"C",3} {"params",7} {"kind",-13} {"test acc % (mean)",17} {"min-max",13}");
        foreach (var v in variants)
        {
            var accuracies = results.Where(r => r.Network == v.Name).Select(r => 100 * r.TestAccuracy).ToList();
            if (accuracies.Count == 0) continue;
            Console.WriteLine(Inv($"{v.Name,-8} {v.L,2} {v.KText,-18} {v.C,3} {v.ParameterCount,7:N0} {v.Kind,-13} {accuracies.Average(),17:0.00} {accuracies.Min(),6:0.00}-{accuracies.Max(),6:0.00}"));
        }
    }

    /// <summary>Figure 3: mean test accuracy against L, the width C on each bar's label.</summary>
    public static void PlotVaryL(string path, IReadOnlyList<Variant> variants, IReadOnlyList<StudyResult> results) =>
        BarChart(path, variants, results, v => Inv($"L = {v.L}\nC = {v.C}\n{v.KText}"),
            "Accuracy against L at about equal #params (paper Figure 3), bundled digits",
            "L: a channel-wise 3x3 and L - 1 balanced group 1x1 convolutions, prod K = C (all complementary)");

    /// <summary>Figure 2: mean test accuracy against K at L = 3, coloured by the block's connectivity.</summary>
    public static void PlotVaryK(string path, IReadOnlyList<Variant> variants, IReadOnlyList<StudyResult> results) =>
        BarChart(path, variants, results, v => Inv($"K = {v.K2}\nC = {v.C}\n{v.Kind}"),
            "Accuracy against K at L = 3, about equal #params (paper Figure 2), bundled digits",
            "K = K_2 = K_3; red: complementary, blue: dense but redundant, green: sparse");

    private static void BarChart(string path, IReadOnlyList<Variant> variants, IReadOnlyList<StudyResult> results,
        Func<Variant, string> label, string title, string xLabel)
    {
        var plot = new Plot();
        var ticks = new List<Tick>();
        var bars = new List<Bar>();
        var means = new List<double>();
        for (var i = 0; i < variants.Count; i++)
        {
            var v = variants[i];
            var accuracies = results.Where(r => r.Network == v.Name).Select(r => 100 * r.TestAccuracy).ToList();
            if (accuracies.Count == 0) continue;
            var mean = accuracies.Average();
            means.Add(mean);
            bars.Add(new Bar
            {
                Position = i,
                Value = mean,
                ValueBase = 0,
                FillColor = v.Kind switch { "complementary" => Complementary, "redundant" => Redundant, _ => Sparse },
                Error = accuracies.Count > 1 ? (accuracies.Max() - accuracies.Min()) / 2 : 0,
                Label = Inv($"{mean:0.00}"),
            });
            ticks.Add(new Tick(i, label(v)));
        }
        if (bars.Count == 0) return;
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Bottom.Label.Text = xLabel;
        plot.Axes.Left.Label.Text = "test top-1 accuracy (%)";
        plot.Title(title);
        // Zoom on the accuracies: the differences are a few tenths of a percent.
        var low = Math.Max(0, Math.Floor(means.Min() - 2));
        var high = Math.Min(100, Math.Ceiling(means.Max() + 1));
        plot.Axes.SetLimitsY(low, high);
        plot.Axes.SetLimitsX(-0.6, variants.Count - 0.4);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        plot.SavePng(path, 1000, 560);
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
