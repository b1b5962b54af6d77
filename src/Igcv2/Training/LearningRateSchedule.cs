using System.Globalization;

namespace Igcv2.Training;

/// <summary>
/// Where training stands: <see cref="Epoch"/> (0-based) and <see cref="Step"/> within it (0-based) out of
/// <see cref="StepsPerEpoch"/>. A schedule is a pure function of it, so a resumed run gets the same rates.
/// </summary>
public readonly record struct SchedulePosition(int Epoch, int Step, int StepsPerEpoch)
{
    /// <summary>Epochs elapsed as a real number: <c>Epoch + Step / StepsPerEpoch</c>.</summary>
    public double Progress => Epoch + (StepsPerEpoch > 0 ? (double)Step / StepsPerEpoch : 0);
}

/// <summary>A learning rate per iteration.</summary>
public abstract class LearningRateSchedule
{
    public abstract double At(SchedulePosition position);

    public double At(int epoch, int step, int stepsPerEpoch) => At(new SchedulePosition(epoch, step, stepsPerEpoch));

    /// <summary>Ramps this schedule up linearly over the first <paramref name="epochs"/> epochs (see <see cref="WarmupSchedule"/>).</summary>
    public LearningRateSchedule WithWarmup(double epochs, double startFactor = 0) => new WarmupSchedule(this, epochs, startFactor);

    /// <summary>A short description for logs and checkpoint metadata.</summary>
    public abstract override string ToString();

    protected static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>One rate throughout.</summary>
public sealed class ConstantSchedule(double learningRate) : LearningRateSchedule
{
    public double LearningRate { get; } = learningRate;

    public override double At(SchedulePosition position) => LearningRate;

    public override string ToString() => $"constant(lr={Format(LearningRate)})";
}

/// <summary>
/// The paper's schedule: <see cref="BaseRate"/> multiplied by <see cref="Gamma"/> once for each milestone
/// reached. Milestones are 0-based epoch indices: with milestone 200, epochs 0..199 use the base rate and
/// epoch 200 on uses base*gamma (PyTorch's MultiStepLR stepped once per epoch).
/// </summary>
public sealed class MultiStepSchedule : LearningRateSchedule
{
    public MultiStepSchedule(double baseRate, IEnumerable<int> milestones, double gamma = 0.1)
    {
        BaseRate = baseRate;
        Milestones = milestones.Order().ToArray();
        Gamma = gamma;
    }

    public double BaseRate { get; }

    public IReadOnlyList<int> Milestones { get; }

    public double Gamma { get; }

    /// <summary>The paper's CIFAR setting: 0.1, x0.1 at epochs 200, 300 and 350 of 400 (section 5.1).</summary>
    public static MultiStepSchedule PaperCifar() => new(0.1, [200, 300, 350]);

    /// <summary>The paper's Tiny ImageNet setting: 0.1, x0.1 at epochs 100, 150 and 175 of 200.</summary>
    public static MultiStepSchedule PaperTinyImageNet() => new(0.1, [100, 150, 175]);

    /// <summary>
    /// The paper's shape scaled to <paramref name="epochs"/>: x0.1 at 1/2, 3/4 and 7/8 of the run. A milestone
    /// that rounds down to epoch 0 (a run of one epoch) is left out: every run starts at the base rate.
    /// </summary>
    public static MultiStepSchedule PaperScaled(int epochs, double baseRate = 0.1) =>
        new(baseRate, new[] { epochs / 2, epochs * 3 / 4, epochs * 7 / 8 }.Where(m => m > 0));

    public override double At(SchedulePosition position)
    {
        var rate = BaseRate;
        foreach (var m in Milestones)
        {
            if (position.Epoch >= m) rate *= Gamma;
        }
        return rate;
    }

    public override string ToString() =>
        $"multistep(lr={Format(BaseRate)}, milestones=[{string.Join(", ", Milestones)}], gamma={Format(Gamma)})";
}

/// <summary>
/// Cosine annealing per iteration from <see cref="BaseRate"/> to <see cref="MinRate"/> over
/// <see cref="Epochs"/> epochs: <c>min + (base - min) * (1 + cos(pi * t / T)) / 2</c>, t the fractional epoch.
/// </summary>
public sealed class CosineSchedule(double baseRate, int epochs, double minRate = 0) : LearningRateSchedule
{
    public double BaseRate { get; } = baseRate;

    public int Epochs { get; } = epochs > 0 ? epochs : throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Cosine annealing needs at least one epoch.");

    public double MinRate { get; } = minRate;

    public override double At(SchedulePosition position)
    {
        var t = Math.Clamp(position.Progress / Epochs, 0, 1);
        return MinRate + (BaseRate - MinRate) * (1 + Math.Cos(Math.PI * t)) / 2;
    }

    public override string ToString() => $"cosine(lr={Format(BaseRate)}, epochs={Epochs}, min={Format(MinRate)})";
}

/// <summary>
/// Linear warm-up over another schedule: during the first <see cref="Epochs"/> epochs (fractional, per
/// iteration) the inner rate is scaled by a factor rising linearly from <see cref="StartFactor"/> to 1;
/// afterwards the inner schedule is unchanged. Composes with any schedule (multistep, cosine).
/// </summary>
public sealed class WarmupSchedule : LearningRateSchedule
{
    public WarmupSchedule(LearningRateSchedule inner, double epochs, double startFactor = 0)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Warm-up cannot be negative.");
        if (startFactor is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "The start factor lies in [0, 1].");
        Inner = inner;
        Epochs = epochs;
        StartFactor = startFactor;
    }

    public LearningRateSchedule Inner { get; }

    public double Epochs { get; }

    public double StartFactor { get; }

    public override double At(SchedulePosition position)
    {
        var rate = Inner.At(position);
        var t = position.Progress;
        if (t >= Epochs) return rate;
        return rate * (StartFactor + (1 - StartFactor) * t / Epochs);
    }

    public override string ToString() => $"warmup(epochs={Format(Epochs)}, start={Format(StartFactor)}, then {Inner})";
}
