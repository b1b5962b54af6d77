using Igcv2.Data;

namespace Igcv2.Training;

/// <summary>
/// What <see cref="ModelFitExtensions.Fit"/> needs beyond the model and the training data, as Keras's
/// <c>model.fit(..., epochs, validation_data, callbacks)</c> reads: everything has a default.
/// </summary>
public sealed record FitOptions
{
    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Evaluated after every epoch (inference mode, its first epoch's order); null: none.</summary>
    public DataLoader? Validation { get; init; }

    /// <summary>The learning rate per step; null: cosine from 0.1 over <see cref="Epochs"/>.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>SGD's settings (Nesterov momentum 0.9, weight decay 1e-4 on weights only by default).</summary>
    public SgdOptions Optimizer { get; init; } = new();

    /// <summary>The loss; null: softmax cross-entropy on the model's device (<see cref="LossFunction.CrossEntropy(Device)"/>).</summary>
    public ILossFunction? Loss { get; init; }

    /// <summary>What is measured besides the loss and reported per epoch (Keras's <c>metrics</c>): top-1 <see cref="Accuracy"/> by default.</summary>
    public IReadOnlyList<IMetric> Metrics { get; init; } = [new Accuracy()];

    /// <summary>Told of every step and epoch (Keras's callbacks): a CSV log, a progress bar, a plot.</summary>
    public IReadOnlyList<ITrainingObserver> Observers { get; init; } = [];

    /// <summary>Where a checkpoint goes after every epoch; null: none.</summary>
    public string? CheckpointPath { get; init; }
}

/// <summary>The Keras-style entry point to training: one call over loaders. <see cref="Trainer"/> stays the low-level one.</summary>
public static class ModelFitExtensions
{
    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> for <see cref="FitOptions.Epochs"/> epochs and returns
    /// the per-epoch history. The loader already knows its batches per epoch and its seed (the trainer's seed,
    /// stored in checkpoints), so neither is repeated here. To resume or to train on in steps, use a
    /// <see cref="Trainer"/>, which keeps the optimizer's state between calls.
    /// </summary>
    public static TrainingResult Fit(this IModel model, DataLoader train, FitOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new FitOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Epochs, 1);
        var input = model.Plan.Spec;
        if (train.Channels != input.InputChannels || train.Height != input.InputSize || train.Width != input.InputSize)
        {
            throw new ArgumentException(
                $"{model.GetType().Name} reads {input.InputChannels}x{input.InputSize}x{input.InputSize} images; the loader yields {train.Channels}x{train.Height}x{train.Width}.",
                nameof(train));
        }
        if (train.Dataset.Classes > input.Classes)
        {
            throw new ArgumentException($"{model.GetType().Name} has {input.Classes} classes; {train.Dataset.Name} has {train.Dataset.Classes}.", nameof(train));
        }
        if (train.BatchSize > model.BatchSize)
        {
            throw new ArgumentException($"The loader's batches of {train.BatchSize} exceed the model's batch size {model.BatchSize}.", nameof(train));
        }

        using var trainer = new Trainer(model, options.Loss ?? LossFunction.CrossEntropy(model.Device), new TrainerOptions
        {
            Epochs = options.Epochs,
            Schedule = options.Schedule ?? new CosineSchedule(0.1, options.Epochs),
            Optimizer = options.Optimizer,
            Metrics = options.Metrics,
            Seed = train.Options.Seed,
            CheckpointPath = options.CheckpointPath,
        });
        foreach (var observer in options.Observers) trainer.Observe(observer);
        return trainer.Run(epoch => train.Epoch(epoch, cancellationToken: cancellation), train.BatchesPerEpoch, options.Validation?.Epoch(0), cancellation);
    }
}
