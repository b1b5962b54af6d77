using System.Globalization;
using System.Text;

namespace Igcv2.Training;

/// <summary>
/// Writes one CSV row per epoch: <c>epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s</c>
/// (accuracies as fractions, invariant culture), then <c>train_NAME,test_NAME</c> for each metric other than
/// top-1 accuracy (e.g. <c>train_top5_accuracy,test_top5_accuracy</c>). A resumed run rewrites the file from the
/// checkpoint's history first, so the log never holds rows of epochs the checkpoint did not reach.
/// </summary>
public sealed class CsvLogObserver(string path) : ITrainingObserver
{
    public const string Header = "epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";

    // The metrics that get columns of their own: all but top-1 accuracy, which has train_acc and test_acc.
    private string[] extra = [];

    public string Path { get; } = path ?? throw new ArgumentNullException(nameof(path));

    public void TrainingStarted(TrainingStart start)
    {
        extra = start.Metrics.Where(m => m != Accuracy.DefaultName).ToArray();
        var text = new StringBuilder().Append(Header);
        foreach (var m in extra) text.Append(",train_").Append(m).Append(",test_").Append(m);
        text.Append('\n');
        foreach (var e in start.History) text.Append(Row(e)).Append(Extra(e)).Append('\n');
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(Path, text.ToString());
    }

    public void EpochCompleted(EpochReport epoch) => File.AppendAllText(Path, Row(epoch) + Extra(epoch) + "\n");

    public static string Row(EpochReport e) => string.Join(',',
        e.Epoch.ToString(CultureInfo.InvariantCulture),
        Number(e.LearningRate),
        Number(e.TrainLoss),
        Number(e.TrainAccuracy),
        Number(e.TestLoss),
        Number(e.TestAccuracy),
        e.Seconds.ToString("0.###", CultureInfo.InvariantCulture),
        e.ImagesPerSecond.ToString("0.#", CultureInfo.InvariantCulture));

    private string Extra(EpochReport e) => string.Concat(extra.Select(m => "," + Number(Value(e.TrainMetrics, m)) + "," + Number(Value(e.TestMetrics, m))));

    private static double Value(IReadOnlyList<MetricValue> metrics, string name)
    {
        foreach (var m in metrics)
        {
            if (m.Name == name) return m.Value;
        }
        return double.NaN;
    }

    private static string Number(double value) => double.IsNaN(value) ? "" : value.ToString("G6", CultureInfo.InvariantCulture);
}
