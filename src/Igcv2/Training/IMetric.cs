namespace Igcv2.Training;

/// <summary>
/// Something measured on the logits besides the loss, per image and averaged over the images seen (Keras's
/// mean metrics): the trainer and <see cref="ModelFitExtensions.Fit"/> take a list of them
/// (<see cref="TrainerOptions.Metrics"/>, top-1 <see cref="Accuracy"/> by default) and report each per step,
/// per epoch (<see cref="EpochReport.TrainMetrics"/>, <see cref="EpochReport.TestMetrics"/>) and to the observers.
/// </summary>
public interface IMetric
{
    /// <summary>The name in reports, logs and checkpoints, e.g. "accuracy" or "top5_accuracy"; unique within a trainer.</summary>
    string Name { get; }

    /// <summary>
    /// The metric summed over the first <paramref name="n"/> rows of <paramref name="logits"/> [>= n, classes] (an
    /// accuracy: how many are right). Sums of batches, and of the processes of a data-parallel job, add up; the
    /// reported value is the sum divided by the images.
    /// </summary>
    double Sum(Tensor logits, Labels labels, int n);
}

/// <summary>Top-1 accuracy: the fraction of images whose first maximal logit is at the label (<c>device.Ops.CountCorrect</c>).</summary>
public sealed class Accuracy : IMetric
{
    public const string DefaultName = "accuracy";

    public string Name => DefaultName;

    public double Sum(Tensor logits, Labels labels, int n) => logits.Device.Ops.CountCorrect(logits, labels, n);

    public override string ToString() => Name;
}

/// <summary>
/// Top-k accuracy: the fraction of images whose label is among the k highest logits (ties go to the lower class
/// index, so k = 1 is <see cref="Accuracy"/>; <c>device.Ops.CountTopK</c>). Named "top{k}_accuracy".
/// </summary>
public sealed class TopKAccuracy : IMetric
{
    public TopKAccuracy(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        K = k;
    }

    public int K { get; }

    public string Name => $"top{K}_accuracy";

    public double Sum(Tensor logits, Labels labels, int n) => logits.Device.Ops.CountTopK(logits, labels, n, K);

    public override string ToString() => Name;
}
