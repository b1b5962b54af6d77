using System.Diagnostics;
using Igcv2.Data;
using Igcv2.Distributed;

namespace Igcv2.Training;

/// <summary>
/// Trains any <see cref="IModel"/>: per epoch, mini-batches from the data seam, each copied into the
/// model's input, then forward, loss, backward and an <see cref="Sgd"/> step at the scheduled rate; after
/// the epoch an evaluation on the test set in inference mode, a report to the observers and a checkpoint.
/// Everything that decides the numbers (weights, BN statistics, momentum, position, seed) is in the
/// checkpoint, so <see cref="LoadCheckpoint"/> then <see cref="Run"/> continues exactly where it stopped:
/// bit for bit on the CPU device when the loader orders data from (seed, epoch).
/// <para>
/// Cancelling the token stops at the next step boundary (or in the evaluation, between its batches) and,
/// with <see cref="TrainerOptions.CheckpointOnCancel"/>, writes a checkpoint of that position. A checkpoint is
/// never written from a state holding a NaN or an infinity: the run stops as
/// <see cref="TrainingOutcome.Diverged"/> instead, and the checkpoint on disk stays the last good one.
/// </para>
/// </summary>
public sealed partial class Trainer : IDisposable
{
    private readonly Dictionary<int, BatchTensors> tensors = [];
    private readonly List<EpochReport> history = [];
    private readonly List<ITrainingObserver> observers = [];
    private readonly IMetric[] metrics;
    // Where Accuracy sits in metrics (-1: not measured): it also feeds TrainAccuracy, TestAccuracy and StepReport.Correct.
    private readonly int accuracy;
    private EpochProgress progress;
    private (int Epoch, int Step, long Iteration)? savedAt;
    private float lastLoss = float.NaN;
    private bool disposed;

    public Trainer(IModel model, ILossFunction loss, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        Model = model;
        Loss = loss;
        Options = options ?? new TrainerOptions();
        if (Options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), Options.Epochs, "Epochs cannot be negative.");
        if (Options.CheckpointEveryEpochs < 1) throw new ArgumentOutOfRangeException(nameof(options), Options.CheckpointEveryEpochs, "CheckpointEveryEpochs must be at least 1.");
        metrics = CheckedMetrics(Options.Metrics);
        accuracy = Array.FindIndex(metrics, m => m is Accuracy);
        progress = NewProgress();
        Optimizer = new Sgd(model.Parameters, Options.Optimizer);
        var spec = model.Plan.Spec;
        ImageShape = [spec.InputChannels, spec.InputSize, spec.InputSize];
        Classes = spec.Classes;
    }

    /// <summary>
    /// A trainer that is one process of a data-parallel job over <paramref name="communicator"/> (see
    /// <see cref="Communicator"/>); with a one-process communicator it is the trainer above.
    /// </summary>
    public Trainer(IModel model, ILossFunction loss, TrainerOptions? options, ICommunicator? communicator)
        : this(model, loss, options)
    {
        Communicator = communicator ?? SingleProcessCommunicator.Instance;
        if (Communicator.Size > 1) gradients = new GradientReducer(model, Communicator);
    }

    public IModel Model { get; }

    public ILossFunction Loss { get; }

    /// <summary>What is measured besides the loss (<see cref="TrainerOptions.Metrics"/>).</summary>
    public IReadOnlyList<IMetric> Metrics => metrics;

    public TrainerOptions Options { get; }

    public Sgd Optimizer { get; }

    /// <summary>[C, H, W] of one input image.</summary>
    public int[] ImageShape { get; }

    public int Classes { get; }

    /// <summary>The 0-based epoch the next step belongs to.</summary>
    public int Epoch { get; private set; }

    /// <summary>The 0-based step within <see cref="Epoch"/> that runs next.</summary>
    public int Step { get; private set; }

    /// <summary>Optimizer steps taken since the start (across resumes).</summary>
    public long Iteration { get; private set; }

    /// <summary>Finished epochs' reports, including those before a resume.</summary>
    public IReadOnlyList<EpochReport> History => history;

    public IList<ITrainingObserver> Observers => observers;

    /// <summary>Adds an observer; returns this trainer for chaining.</summary>
    public Trainer Observe(ITrainingObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        observers.Add(observer);
        return this;
    }

    /// <summary>
    /// Trains from the current position up to <see cref="TrainerOptions.Epochs"/>.
    /// </summary>
    /// <param name="train">The batches of a 0-based epoch, in that epoch's (shuffled) order.</param>
    /// <param name="stepsPerEpoch">How many batches an epoch yields; the schedules need it to place each step.</param>
    /// <param name="test">The test set, evaluated after every epoch; null skips evaluation.</param>
    public TrainingResult Run(Func<int, IEnumerable<Batch>> train, int stepsPerEpoch, IEnumerable<Batch>? test = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Run((epoch, start) => start > 0 ? train(epoch).Skip(start) : train(epoch), stepsPerEpoch, test, cancellation);
    }

    /// <summary>
    /// As <see cref="Run(Func{int, IEnumerable{Batch}}, int, IEnumerable{Batch}?, CancellationToken)"/>, with a data
    /// seam that starts an epoch at a given batch (a resume mid-epoch then skips no batches), e.g.
    /// <c>(epoch, start) =&gt; loader.Epoch(epoch, start)</c>.
    /// </summary>
    /// <param name="train">The batches of a 0-based epoch from a 0-based batch on: the same batches its full order has from there.</param>
    public TrainingResult Run(Func<int, int, IEnumerable<Batch>> train, int stepsPerEpoch, IEnumerable<Batch>? test = null, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        Notify(o => o.TrainingStarted(new TrainingStart(Options.Epochs, Epoch, Step, stepsPerEpoch, history.ToArray(),
            $"{Model.GetType().Name}, batch {Model.BatchSize}, SGD {Options.Optimizer}, {Options.Schedule}, seed {Options.Seed}{DistributedDescription}")
        {
            Metrics = Array.ConvertAll(metrics, m => m.Name),
        }));
        TrainingResult result;
        try
        {
            StartDistributed();
            result = RunEpochs(train, stepsPerEpoch, test, cancellation);
        }
        catch (Exception e)
        {
            Notify(o => o.TrainingStopped(new TrainingResult(TrainingOutcome.Failed, history.ToArray(), e.Message, LastCheckpoint: LastCheckpoint)));
            throw;
        }
        finally
        {
            StopDistributed();
        }
        Notify(o => o.TrainingStopped(result));
        return result;
    }

    /// <summary>The checkpoint this trainer wrote or loaded last (the last good one after a divergence).</summary>
    public string? LastCheckpoint { get; private set; }

    private TrainingResult RunEpochs(Func<int, int, IEnumerable<Batch>> train, int stepsPerEpoch, IEnumerable<Batch>? test, CancellationToken cancellation)
    {
        while (Epoch < Options.Epochs)
        {
            var epoch = Epoch;
            var clock = Stopwatch.StartNew();
            var skip = Step;
            if (skip == 0) progress = NewProgress();
            foreach (var batch in train(epoch, skip))
            {
                // Several processes: they agree on every step (all have a batch, nobody was cancelled) first.
                if (Distributed ? StartStep(batch.Count, cancellation) : cancellation.IsCancellationRequested)
                {
                    progress.TrainSeconds += clock.Elapsed.TotalSeconds;
                    return Cancelled(stepsPerEpoch);
                }
                var learningRate = Options.Schedule.At(epoch, Step, stepsPerEpoch);
                if (Step == 0) progress.FirstRate = learningRate;
                var n = batch.Count;
                var t = TensorsFor(n);
                Load(batch, t);
                var logits = Model.Forward(t.Input, training: true);
                var loss = Loss.Compute(logits, t.Labels, t.GradLogits, n);
                var sums = Measure(logits, t.Labels, n);
                // Several processes: from here on loss, the metric sums and n are the global batch's.
                if (Distributed) (loss, n) = SynchronizeLoss(loss, sums, n, t.GradLogits);
                if (!float.IsFinite(loss))
                {
                    // Stop before the backward pass: the weights stay those of the last finite step, and
                    // no checkpoint is written, so the last good one on disk survives.
                    var divergence = new Divergence(epoch, Step, Iteration, loss);
                    var kept = LastCheckpoint is null ? "no checkpoint was written" : $"the last good checkpoint {LastCheckpoint} is kept";
                    return new TrainingResult(TrainingOutcome.Diverged, history.ToArray(),
                        $"Training stopped: {divergence}; {kept}.", divergence, LastCheckpoint);
                }
                lastLoss = loss;
                Model.Backward(t.GradLogits);
                gradients?.Sum();
                Optimizer.Step(learningRate);

                progress.LossSum += (double)loss * n;
                for (var m = 0; m < sums.Length; m++) progress.MetricSums[m] += sums[m];
                progress.Seen += n;
                var stepReport = new StepReport(epoch, Step, stepsPerEpoch, Iteration, learningRate, loss, accuracy < 0 ? 0 : (int)sums[accuracy], n)
                {
                    Metrics = Values(sums, n),
                };
                Step++;
                Iteration++;
                foreach (var o in Reporting) o.StepCompleted(stepReport);
                if (Options.CheckpointEverySteps > 0 && Options.CheckpointPath is { } midPath && Iteration % Options.CheckpointEverySteps == 0)
                {
                    progress.TrainSeconds += clock.Elapsed.TotalSeconds;
                    clock.Restart();
                    if (SaveDuringRun(midPath) is { } stopped) return stopped;
                }
            }
            if (Distributed) EndEpoch(epoch, cancellation);
            progress.TrainSeconds += clock.Elapsed.TotalSeconds;
            if (progress.Seen == 0) throw new InvalidOperationException($"Epoch {epoch + 1} yielded no batches.");

            clock.Restart();
            if (Distributed) ShareBatchNormBuffers();
            // Under MPI every process must run the same collectives: a cancellation waits for the epoch's end there.
            var evaluation = test is null ? new Evaluation(double.NaN, double.NaN, 0) : Evaluate(test, Distributed ? default : cancellation);
            if (evaluation is null) return Cancelled(stepsPerEpoch);
            var trainMetrics = Values(progress.MetricSums, progress.Seen);
            var report = new EpochReport(
                epoch + 1,
                progress.FirstRate,
                progress.LossSum / progress.Seen,
                accuracy < 0 ? double.NaN : trainMetrics[accuracy].Value,
                evaluation.Value.Loss,
                evaluation.Value.Accuracy,
                progress.TrainSeconds + clock.Elapsed.TotalSeconds,
                progress.TrainSeconds > 0 ? progress.Seen / progress.TrainSeconds : double.NaN)
            {
                TrainMetrics = trainMetrics,
                TestMetrics = evaluation.Value.Metrics,
            };
            history.Add(report);
            Epoch = epoch + 1;
            Step = 0;
            progress = NewProgress();
            foreach (var o in Reporting) o.EpochCompleted(report);
            if (Options.CheckpointPath is { } path && (Epoch % Options.CheckpointEveryEpochs == 0 || Epoch == Options.Epochs))
            {
                if (SaveDuringRun(path) is { } stopped) return stopped;
            }
            if (Distributed ? cancelAgreed : cancellation.IsCancellationRequested) return Cancelled(stepsPerEpoch);
        }
        return new TrainingResult(TrainingOutcome.Completed, history.ToArray(),
            $"Trained {Options.Epochs} epochs.", LastCheckpoint: LastCheckpoint);
    }

    private TrainingResult Cancelled(int stepsPerEpoch)
    {
        var where = Step == 0 ? $"at the start of epoch {Epoch + 1}"
            : Step >= stepsPerEpoch ? $"in epoch {Epoch + 1} after its last step, before its evaluation"
            : $"in epoch {Epoch + 1} after {Step} of its {stepsPerEpoch} steps";
        var saved = "";
        if (Options.CheckpointOnCancel && Options.CheckpointPath is { } path)
        {
            // At an epoch end the checkpoint of this very position may already be on disk.
            if (savedAt != (Epoch, Step, Iteration) || LastCheckpoint != path)
            {
                if (SaveDuringRun(path) is { } stopped) return stopped;
            }
            saved = Step > 0 ? $"; the mid-epoch checkpoint {path} holds this position" : $"; the checkpoint {path} holds this position";
        }
        return new TrainingResult(TrainingOutcome.Cancelled, history.ToArray(),
            $"Cancelled {where}{saved}.", LastCheckpoint: LastCheckpoint);
    }

    /// <summary>Saves, or returns the divergence when the state holds a NaN or an infinity (nothing is written then).</summary>
    private TrainingResult? SaveDuringRun(string path)
    {
        try
        {
            SaveCheckpoint(path);
            return null;
        }
        catch (NonFiniteStateException e)
        {
            var divergence = new Divergence(Epoch, Step, Iteration, lastLoss, e.Tensor);
            var kept = LastCheckpoint is null ? "no checkpoint was written" : $"the last good checkpoint {LastCheckpoint} is kept";
            return new TrainingResult(TrainingOutcome.Diverged, history.ToArray(),
                $"Training stopped: {divergence} ({e.Tensor}[{e.Index}] = {e.Value}); {kept}.", divergence, LastCheckpoint);
        }
    }

    /// <summary>Mean loss and metrics (<see cref="Metrics"/>) of the model on <paramref name="data"/>, in inference mode (running BN statistics).</summary>
    public Evaluation Evaluate(IEnumerable<Batch> data)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(data, CancellationToken.None)!.Value;
    }

    /// <summary>As <see cref="Evaluate(IEnumerable{Batch})"/>; null when cancelled between two batches.</summary>
    private Evaluation? Evaluate(IEnumerable<Batch> data, CancellationToken cancellation)
    {
        double lossSum = 0;
        var metricSums = new double[metrics.Length];
        long seen = 0;
        foreach (var batch in data)
        {
            if (cancellation.IsCancellationRequested) return null;
            if (Distributed && batch.Count == 0) continue;
            var t = TensorsFor(batch.Count);
            Load(batch, t);
            var logits = Model.Forward(t.Input, training: false);
            lossSum += (double)Loss.Compute(logits, t.Labels, t.GradLogits, batch.Count) * batch.Count;
            var sums = Measure(logits, t.Labels, batch.Count);
            for (var m = 0; m < sums.Length; m++) metricSums[m] += sums[m];
            seen += batch.Count;
        }
        if (Distributed) (lossSum, seen) = SumEvaluation(lossSum, metricSums, seen);
        if (seen == 0) return new Evaluation(double.NaN, double.NaN, 0);
        var values = Values(metricSums, seen);
        return new Evaluation(lossSum / seen, accuracy < 0 ? double.NaN : values[accuracy].Value, seen) { Metrics = values };
    }

    /// <summary>
    /// Writes the whole training state to <paramref name="path"/> atomically and durably (see
    /// <see cref="TrainingCheckpoint"/>); throws <see cref="NonFiniteStateException"/>, writing nothing, when a
    /// weight, statistic or momentum is NaN or infinite.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (Communicator.Rank != 0)
        {
            // Process 0 writes; the state it writes is this process's too.
            LastCheckpoint = path;
            savedAt = (Epoch, Step, Iteration);
            return;
        }
        TrainingCheckpoint.Save(path, this, new TrainingCheckpoint.Position(Epoch, Step, Iteration, progress.LossSum, MetricSumsByName(), progress.Seen, progress.TrainSeconds, progress.FirstRate), history);
        LastCheckpoint = path;
        savedAt = (Epoch, Step, Iteration);
        foreach (var o in Reporting) o.CheckpointSaved(path, Epoch, Step);
    }

    /// <summary>
    /// Restores weights, BN statistics, momentum, position and history from <paramref name="path"/>;
    /// refuses, saying what is wrong and changing nothing, a checkpoint of another architecture or seed, one
    /// whose bytes fail their checksums and one holding a NaN or an infinity.
    /// </summary>
    /// <returns>Whether the file's checksums were verified (an older file without any still loads; see <see cref="LoadedFile.Note"/>).</returns>
    public LoadedFile LoadCheckpoint(string path)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var (position, earlier, file) = TrainingCheckpoint.Load(path, this);
        Epoch = position.Epoch;
        Step = position.Step;
        Iteration = position.Iteration;
        progress = new EpochProgress
        {
            LossSum = position.LossSum,
            // A metric the checkpoint did not measure has no sum for the epoch's first steps: it reports NaN for this epoch.
            MetricSums = Array.ConvertAll(metrics, m => position.MetricSums.TryGetValue(m.Name, out var sum) ? sum : position.Seen == 0 ? 0 : double.NaN),
            Seen = position.Seen,
            TrainSeconds = position.TrainSeconds,
            FirstRate = position.FirstRate,
        };
        history.Clear();
        history.AddRange(earlier);
        LastCheckpoint = path;
        savedAt = (Epoch, Step, Iteration);
        return file;
    }

    private static IMetric[] CheckedMetrics(IReadOnlyList<IMetric>? list)
    {
        if (list is null) throw new ArgumentNullException(nameof(TrainerOptions.Metrics), "TrainerOptions.Metrics is null: pass [] to measure nothing but the loss.");
        var result = list.ToArray();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < result.Length; i++)
        {
            if (result[i] is null) throw new ArgumentException($"TrainerOptions.Metrics[{i}] is null.", nameof(TrainerOptions.Metrics));
            if (string.IsNullOrWhiteSpace(result[i].Name)) throw new ArgumentException($"TrainerOptions.Metrics[{i}] ({result[i].GetType().Name}) has no name.", nameof(TrainerOptions.Metrics));
            if (!names.Add(result[i].Name)) throw new ArgumentException($"TrainerOptions.Metrics names '{result[i].Name}' twice; each metric needs its own name.", nameof(TrainerOptions.Metrics));
        }
        return result;
    }

    private EpochProgress NewProgress() => new() { MetricSums = new double[metrics.Length] };

    /// <summary>Each metric's sum over the first n rows, in <see cref="Metrics"/>' order.</summary>
    private double[] Measure(Tensor logits, Labels labels, int n)
    {
        var sums = new double[metrics.Length];
        for (var m = 0; m < sums.Length; m++) sums[m] = metrics[m].Sum(logits, labels, n);
        return sums;
    }

    private MetricValue[] Values(double[] sums, long images)
    {
        var values = new MetricValue[metrics.Length];
        for (var m = 0; m < values.Length; m++) values[m] = new MetricValue(metrics[m].Name, sums[m] / images);
        return values;
    }

    private Dictionary<string, double> MetricSumsByName()
    {
        var byName = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var m = 0; m < metrics.Length; m++) byName[metrics[m].Name] = progress.MetricSums[m];
        return byName;
    }

    private void Notify(Action<ITrainingObserver> action)
    {
        foreach (var o in Reporting) action(o);
    }

    private BatchTensors TensorsFor(int n)
    {
        if (n < 1 || n > Model.BatchSize)
        {
            throw new ArgumentException($"A batch of {n} images does not fit the model's batch size {Model.BatchSize}.");
        }
        if (!tensors.TryGetValue(n, out var t))
        {
            var device = Model.Device;
            t = new BatchTensors(
                device.Allocate(n, ImageShape[0], ImageShape[1], ImageShape[2]),
                device.AllocateLabels(n),
                device.Allocate(n, Classes));
            tensors.Add(n, t);
        }
        return t;
    }

    private static void Load(Batch batch, BatchTensors t)
    {
        var imageValues = checked((int)t.Input.Length);
        if (batch.Images.Length < imageValues || batch.Labels.Length < batch.Count)
        {
            throw new ArgumentException(
                $"A batch of {batch.Count} needs {imageValues} image values and {batch.Count} labels, got {batch.Images.Length} and {batch.Labels.Length}.");
        }
        t.Input.CopyFrom(batch.Images.AsSpan(0, imageValues));
        t.Labels.CopyFrom(batch.Labels.AsSpan(0, batch.Count));
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
        Optimizer.Dispose();
    }

    /// <summary>Input [n, C, H, W], labels [n], logit gradient [n, classes] for batches of n.</summary>
    private sealed record BatchTensors(Tensor Input, Labels Labels, Tensor GradLogits) : IDisposable
    {
        public void Dispose()
        {
            Input.Dispose();
            Labels.Dispose();
            GradLogits.Dispose();
        }
    }

    /// <summary>The running sums of the epoch in progress (checkpointed mid-epoch).</summary>
    private struct EpochProgress
    {
        public double LossSum;
        // One per metric, in Metrics' order.
        public double[] MetricSums;
        public long Seen;
        public double TrainSeconds;
        public double FirstRate;
    }
}
