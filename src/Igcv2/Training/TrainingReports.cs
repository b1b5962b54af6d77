namespace Igcv2.Training;

/// <summary>What a run starts from: a fresh model (<see cref="StartEpoch"/> 0) or a resumed checkpoint.</summary>
/// <param name="Epochs">The epoch count the run ends at.</param>
/// <param name="StartEpoch">0-based epoch the run starts (or resumes) in.</param>
/// <param name="StartStep">0-based step within it (non-zero after a mid-epoch checkpoint).</param>
/// <param name="StepsPerEpoch">Mini-batches per epoch, as the data seam announced.</param>
/// <param name="History">Epochs finished before this run (from the checkpoint).</param>
/// <param name="Description">Model, optimizer and schedule in one line.</param>
public sealed record TrainingStart(
    int Epochs,
    int StartEpoch,
    int StartStep,
    int StepsPerEpoch,
    IReadOnlyList<EpochReport> History,
    string Description)
{
    /// <summary>The names of the metrics the run reports (<see cref="TrainerOptions.Metrics"/>), in order.</summary>
    public IReadOnlyList<string> Metrics { get; init; } = [];
}

/// <summary>A metric's value (<see cref="IMetric"/>): its name and its mean over the images it saw.</summary>
public readonly record struct MetricValue(string Name, double Value)
{
    public override string ToString() => $"{Name} {Value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>
/// One optimizer step: <see cref="Epoch"/> and <see cref="Step"/> are 0-based, <see cref="Loss"/> is the batch mean,
/// <see cref="Metrics"/> the batch's value of each metric. <see cref="Correct"/> is the batch's top-1 hits when
/// <see cref="Accuracy"/> is among the metrics (the default), else 0.
/// </summary>
public readonly record struct StepReport(
    int Epoch,
    int Step,
    int StepsPerEpoch,
    long Iteration,
    double LearningRate,
    float Loss,
    int Correct,
    int Count)
{
    private readonly IReadOnlyList<MetricValue>? metrics;

    /// <summary>Each metric's mean over this batch, in the order of <see cref="TrainerOptions.Metrics"/>.</summary>
    public IReadOnlyList<MetricValue> Metrics { get => metrics ?? []; init => metrics = value; }
}

/// <summary>
/// One finished epoch. <see cref="Epoch"/> counts from 1 (the first epoch is 1). Losses are means over
/// images; <see cref="TrainMetrics"/> and <see cref="TestMetrics"/> hold each metric's mean, and
/// <see cref="TrainAccuracy"/> and <see cref="TestAccuracy"/> the top-1 fractions in [0, 1] (NaN when
/// <see cref="Accuracy"/> is not among the metrics); test values are NaN, and <see cref="TestMetrics"/> empty,
/// when no test set was given. <see cref="LearningRate"/> is the rate of the epoch's first step;
/// <see cref="Seconds"/> includes the evaluation, <see cref="ImagesPerSecond"/> counts training only.
/// </summary>
public sealed record EpochReport(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double TrainAccuracy,
    double TestLoss,
    double TestAccuracy,
    double Seconds,
    double ImagesPerSecond)
{
    private readonly IReadOnlyList<MetricValue> trainMetrics = [];
    private readonly IReadOnlyList<MetricValue> testMetrics = [];

    /// <summary>Each metric's mean over the epoch's training images, in the order of <see cref="TrainerOptions.Metrics"/>.</summary>
    public IReadOnlyList<MetricValue> TrainMetrics { get => trainMetrics; init => trainMetrics = value ?? []; }

    /// <summary>Each metric's mean over the test set (empty without one).</summary>
    public IReadOnlyList<MetricValue> TestMetrics { get => testMetrics; init => testMetrics = value ?? []; }

    // Value equality over the metric lists too (a resumed run's history equals an uninterrupted one's).
    public bool Equals(EpochReport? other) =>
        other is not null && Epoch == other.Epoch && LearningRate.Equals(other.LearningRate) && TrainLoss.Equals(other.TrainLoss)
        && TrainAccuracy.Equals(other.TrainAccuracy) && TestLoss.Equals(other.TestLoss) && TestAccuracy.Equals(other.TestAccuracy)
        && Seconds.Equals(other.Seconds) && ImagesPerSecond.Equals(other.ImagesPerSecond)
        && TrainMetrics.SequenceEqual(other.TrainMetrics) && TestMetrics.SequenceEqual(other.TestMetrics);

    public override int GetHashCode() => HashCode.Combine(Epoch, LearningRate, TrainLoss, TestLoss, Seconds, TrainMetrics.Count, TestMetrics.Count);
}

/// <summary>A model's loss and metrics on a data set, in inference mode (<see cref="Accuracy"/>: top-1, NaN when not measured).</summary>
public readonly record struct Evaluation(double Loss, double Accuracy, long Images)
{
    private readonly IReadOnlyList<MetricValue>? metrics;

    /// <summary>Each metric's mean over the images, in the order of <see cref="TrainerOptions.Metrics"/>.</summary>
    public IReadOnlyList<MetricValue> Metrics { get => metrics ?? []; init => metrics = value; }
}

/// <summary>
/// Where and why training stopped being finite. Either the loss of step <see cref="Step"/> was NaN or
/// infinite (the model still holds the weights of the step before), or, with <see cref="NonFiniteTensor"/>
/// set, a weight, statistic or momentum was found non-finite when a checkpoint was due before that step
/// (<see cref="Loss"/> is then the last step's, still finite, loss), and no checkpoint was written.
/// </summary>
public sealed record Divergence(int Epoch, int Step, long Iteration, float Loss, string? NonFiniteTensor = null)
{
    public override string ToString() => NonFiniteTensor is null
        ? $"the loss became {Loss} in epoch {Epoch + 1} at step {Step} (iteration {Iteration})"
        : $"{NonFiniteTensor} became non-finite by epoch {Epoch + 1} step {Step} (iteration {Iteration}), with the last loss still {Loss}";
}

/// <summary>How a run ended.</summary>
public enum TrainingOutcome
{
    Completed,
    Diverged,
    Cancelled,
    Failed,
}

/// <summary>How a run ended, with every epoch's report (resumed runs include the earlier ones).</summary>
public sealed record TrainingResult(
    TrainingOutcome Outcome,
    IReadOnlyList<EpochReport> History,
    string Message,
    Divergence? Divergence = null,
    string? LastCheckpoint = null)
{
    public bool Completed => Outcome == TrainingOutcome.Completed;
}

/// <summary>
/// Hooks a library user implements to follow training; every method has an empty default. Called on the
/// training thread, in order: <see cref="TrainingStarted"/>, then per step <see cref="StepCompleted"/>,
/// per epoch <see cref="EpochCompleted"/> (and <see cref="CheckpointSaved"/>), and always
/// <see cref="TrainingStopped"/> last, also when the run fails.
/// </summary>
public interface ITrainingObserver
{
    void TrainingStarted(TrainingStart start) { }

    void StepCompleted(in StepReport step) { }

    void EpochCompleted(EpochReport epoch) { }

    void CheckpointSaved(string path, int epoch, int step) { }

    void TrainingStopped(TrainingResult result) { }
}
