using ScottPlot;

namespace Igcv2.Training;

/// <summary>
/// Draws the learning curves to a PNG (ScottPlot): loss (train and test) on the left axis and top-1
/// accuracy in percent on the right, against the epoch. Redrawn after every epoch, so the picture is
/// current while a long run goes on, and once more when it stops.
/// </summary>
public sealed class PlotObserver(string path, int width = 900, int height = 500) : ITrainingObserver
{
    private readonly List<EpochReport> epochs = [];

    public string Path { get; } = path ?? throw new ArgumentNullException(nameof(path));

    public void TrainingStarted(TrainingStart start)
    {
        epochs.Clear();
        epochs.AddRange(start.History);
    }

    public void EpochCompleted(EpochReport epoch)
    {
        epochs.Add(epoch);
        Render(epochs, Path, width, height);
    }

    public void TrainingStopped(TrainingResult result)
    {
        if (epochs.Count > 0) Render(epochs, Path, width, height);
    }

    /// <summary>Draws <paramref name="history"/> to <paramref name="path"/>.</summary>
    public static void Render(IReadOnlyList<EpochReport> history, string path, int width = 900, int height = 500)
    {
        ArgumentNullException.ThrowIfNull(history);
        var plot = new Plot();
        var x = history.Select(e => (double)e.Epoch).ToArray();
        Line(plot, x, history.Select(e => e.TrainLoss), "train loss", Colors.Blue, LinePattern.Solid, right: false);
        Line(plot, x, history.Select(e => e.TestLoss), "test loss", Colors.Blue, LinePattern.Dashed, right: false);
        Line(plot, x, history.Select(e => 100 * e.TrainAccuracy), "train top-1 %", Colors.OrangeRed, LinePattern.Solid, right: true);
        Line(plot, x, history.Select(e => 100 * e.TestAccuracy), "test top-1 %", Colors.OrangeRed, LinePattern.Dashed, right: true);
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Left.Label.Text = "loss";
        plot.Axes.Right.Label.Text = "top-1 accuracy (%)";
        plot.Title("Training curves");
        plot.ShowLegend(Alignment.UpperCenter);
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        plot.SavePng(path, width, height);
    }

    private static void Line(Plot plot, double[] x, IEnumerable<double> values, string label, Color color, LinePattern pattern, bool right)
    {
        var y = values.ToArray();
        if (y.All(double.IsNaN)) return;
        var scatter = plot.Add.Scatter(x, y);
        scatter.LegendText = label;
        scatter.Color = color;
        scatter.LinePattern = pattern;
        scatter.MarkerSize = x.Length > 40 ? 0 : 4;
        if (right) scatter.Axes.YAxis = plot.Axes.Right;
    }
}
