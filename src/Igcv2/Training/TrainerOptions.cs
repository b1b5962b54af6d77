namespace Igcv2.Training;

/// <summary>How a <see cref="Trainer"/> runs. Defaults follow the paper's CIFAR setting where it has one.</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs of the whole run (a resumed run continues up to this count).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>The learning rate per iteration; the paper's is <see cref="MultiStepSchedule.PaperCifar"/>.</summary>
    public LearningRateSchedule Schedule { get; init; } = new ConstantSchedule(0.1);

    public SgdOptions Optimizer { get; init; } = new();

    /// <summary>
    /// What is measured besides the loss, on the training batches and the test set, and reported per step, per epoch
    /// and to the observers: top-1 <see cref="Accuracy"/> by default; add e.g. <c>new TopKAccuracy(5)</c>, or pass
    /// [] to measure nothing but the loss. Names must be unique.
    /// </summary>
    public IReadOnlyList<IMetric> Metrics { get; init; } = [new Accuracy()];

    /// <summary>
    /// The seed the data loaders shuffle with (<see cref="EpochShuffle"/>): stored in checkpoints, and a
    /// checkpoint written under another seed is refused, since its data order would differ.
    /// </summary>
    public int Seed { get; init; }

    /// <summary>Where checkpoints go (overwritten atomically); null: none are written.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>A checkpoint after every this many epochs (and after the last one).</summary>
    public int CheckpointEveryEpochs { get; init; } = 1;

    /// <summary>Also a checkpoint every this many iterations, mid-epoch; 0: only at epoch ends.</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Save a checkpoint when the run is cancelled, so that it can resume where it stopped.</summary>
    public bool CheckpointOnCancel { get; init; } = true;

    /// <summary>
    /// Data-parallel training (a trainer with a communicator of several processes): batch norm normalises with the
    /// statistics of the global batch (<see cref="BatchNormMode.Synchronized"/>, the default, so results do not
    /// depend on the process count) or of each process's share (<see cref="BatchNormMode.Local"/>, fewer collectives).
    /// </summary>
    public BatchNormMode BatchNorm { get; init; } = BatchNormMode.Synchronized;
}

/// <summary>Whose statistics batch norm uses in data-parallel training.</summary>
public enum BatchNormMode
{
    /// <summary>The global batch's, summed across processes inside every BN layer (PyTorch's SyncBatchNorm).</summary>
    Synchronized,

    /// <summary>Each process's share of the batch (PyTorch DDP's default).</summary>
    Local,
}
