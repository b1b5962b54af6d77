using Igcv2.Training;

namespace Igcv2.Tests.Training;

/// <summary>A CPU device, a temporary folder and the synthetic task the trainer tests share.</summary>
public abstract class TrainingFixture : IDisposable
{
    protected const int BatchSize = 16;
    protected const int Seed = 11;

    protected TrainingFixture()
    {
        Device = Device.Create(DeviceKind.Cpu);
        Folder = Directory.CreateTempSubdirectory("igcv2-training-").FullName;
    }

    protected Device Device { get; }

    protected string Folder { get; }

    /// <summary>4 classes over 2x4x4 inputs; 200 samples make 13 batches of 16, the last one of 8.</summary>
    internal SyntheticData Train { get; } = new(200, 32, 4, seed: 1);

    internal SyntheticData Test { get; } = new(96, 32, 4, seed: 1);

    internal LinearTestModel Model(int seed = 0, int classes = 4) => new(Device, BatchSize, classes: classes, seed: seed);

    internal static TrainerOptions Options(int epochs, string? checkpoint = null) => new()
    {
        Epochs = epochs,
        Seed = Seed,
        Schedule = new CosineSchedule(0.2, epochs).WithWarmup(0.5, 0.1),
        CheckpointPath = checkpoint,
    };

    internal TrainingResult Run(Trainer trainer, CancellationToken cancellation = default) =>
        trainer.Run(epoch => Train.Epoch(Seed, epoch, BatchSize), Train.StepsPerEpoch(BatchSize), Test.InOrder(BatchSize), cancellation);

    public virtual void Dispose()
    {
        Device.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}

/// <summary>Records every step's loss, bit for bit.</summary>
internal sealed class LossRecorder : ITrainingObserver
{
    public List<(int Epoch, int Step, float Loss, double Rate)> Steps { get; } = [];

    public void StepCompleted(in StepReport step) => Steps.Add((step.Epoch, step.Step, step.Loss, step.LearningRate));
}

/// <summary>Cancels its token after the given iteration completes.</summary>
internal sealed class CancelAfter(long iteration, CancellationTokenSource source) : ITrainingObserver
{
    public void StepCompleted(in StepReport step)
    {
        if (step.Iteration == iteration) source.Cancel();
    }
}

/// <summary>The host loss, turned NaN when the trainer stands at (epoch, step) (evaluation runs at step = steps per epoch).</summary>
internal sealed class PoisonedLoss(int epoch, int step) : ILossFunction
{
    private readonly HostLossFunction inner = new();

    public Trainer? Trainer { get; set; }

    public float Compute(Tensor logits, Labels labels, Tensor gradLogits, int n)
    {
        var loss = inner.Compute(logits, labels, gradLogits, n);
        return Trainer is { } t && t.Epoch == epoch && t.Step == step ? float.NaN : loss;
    }
}
