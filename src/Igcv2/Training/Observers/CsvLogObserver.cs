using System.Globalization;
using System.Text;

namespace Igcv2.Training;

/// <summary>
/// Writes one CSV row per epoch: <c>epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s</c>
/// (accuracies as fractions, invariant culture). A resumed run rewrites the file from the checkpoint's
/// history first, so the log never holds rows of epochs the checkpoint did not reach.
/// </summary>
public sealed class CsvLogObserver(string path) : ITrainingObserver
{
    public const string Header = "epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";

    public string Path { get; } = path ?? throw new ArgumentNullException(nameof(path));

    public void TrainingStarted(TrainingStart start)
    {
        var text = new StringBuilder().Append(Header).Append('\n');
        foreach (var e in start.History) text.Append(Row(e)).Append('\n');
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(Path, text.ToString());
    }

    public void EpochCompleted(EpochReport epoch) => File.AppendAllText(Path, Row(epoch) + "\n");

    public static string Row(EpochReport e) => string.Join(',',
        e.Epoch.ToString(CultureInfo.InvariantCulture),
        Number(e.LearningRate),
        Number(e.TrainLoss),
        Number(e.TrainAccuracy),
        Number(e.TestLoss),
        Number(e.TestAccuracy),
        e.Seconds.ToString("0.###", CultureInfo.InvariantCulture),
        e.ImagesPerSecond.ToString("0.#", CultureInfo.InvariantCulture));

    private static string Number(double value) => double.IsNaN(value) ? "" : value.ToString("G6", CultureInfo.InvariantCulture);
}
