using System.Globalization;
using ILGPU;
using ILGPU.Runtime;

namespace Igcv2.Training;

/// <summary>
/// Stochastic gradient descent settings. Defaults are the paper's CIFAR setting (section 5: Nesterov
/// momentum 0.9, weight decay 1e-4); the learning rate comes from a <see cref="LearningRateSchedule"/>.
/// </summary>
public sealed record SgdOptions
{
    public double Momentum { get; init; } = 0.9;

    public bool Nesterov { get; init; } = true;

    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>
    /// Which parameters weight decay applies to; null means <see cref="Parameter.IsWeight"/> (convolution
    /// and FC weights, not BN gamma/beta nor biases).
    /// </summary>
    public Func<Parameter, bool>? DecayFilter { get; init; }

    /// <summary>Whether <paramref name="parameter"/> is decayed under these options.</summary>
    public bool Decays(Parameter parameter) => WeightDecay != 0 && (DecayFilter?.Invoke(parameter) ?? parameter.IsWeight);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"momentum={Momentum:R} nesterov={Nesterov} weight_decay={WeightDecay:R} decay={(DecayFilter is null ? "weights" : "custom")}");
}

/// <summary>
/// The scalars of one update as the kernel sees them (public because ILGPU's CPU backend emits a task
/// type that must see every kernel argument type). <see cref="Stride"/> is the launched thread count.
/// </summary>
public readonly record struct SgdStep(float LearningRate, float Momentum, float WeightDecay, int Nesterov, int Stride);

/// <summary>
/// SGD with (Nesterov) momentum and weight decay, written exactly as PyTorch's <c>torch.optim.SGD</c>
/// (dampening 0): with d = g + wd*p, the velocity is v = mu*v + d, and the step is p -= lr*(d + mu*v)
/// with Nesterov, p -= lr*v without. The velocity starts at zero, so the first step is PyTorch's
/// v = d. Velocities live on the model's device; the update runs there: an ILGPU grid-stride kernel on
/// a GPU, a <see cref="Parallel"/> loop over the host memory on the CPU device (ILGPU's CPU accelerator
/// emulates GPU threads and is several times slower). Both call the same <see cref="Update"/>.
/// </summary>
public sealed class Sgd : IDisposable
{
    public const string MomentumSuffix = ".momentum";
    public const string StatePrefix = "optimizer.";

    /// <summary>Below this many floats a tensor is updated on one thread: fork/join would cost more.</summary>
    private const int ParallelChunk = 1 << 15;

    private readonly Tensor[] velocities;
    private readonly bool[] decays;
    private Action<Index1D, ArrayView1D<float, Stride1D.Dense>, ArrayView1D<float, Stride1D.Dense>, ArrayView1D<float, Stride1D.Dense>, SgdStep>? kernel;
    private bool disposed;

    /// <param name="parameters">The model's parameters; only trainable ones (with a gradient) are updated.</param>
    /// <param name="options">Learning rate, momentum and weight decay; the defaults when left out.</param>
    public Sgd(IReadOnlyList<Parameter> parameters, SgdOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Options = options ?? new SgdOptions();
        if (Options.Momentum < 0 || Options.WeightDecay < 0) throw new ArgumentException("Momentum and weight decay must be non-negative.", nameof(options));
        if (Options.Nesterov && Options.Momentum == 0) throw new ArgumentException("Nesterov momentum needs a momentum above zero.", nameof(options));
        Parameters = parameters.Where(p => p.IsTrainable).ToArray();
        velocities = new Tensor[Parameters.Count];
        decays = new bool[Parameters.Count];
        for (var i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            velocities[i] = p.Value.Device.Allocate(p.Shape);
            velocities[i].CopyFrom(new float[p.Length]);
            decays[i] = Options.Decays(p);
        }
    }

    public SgdOptions Options { get; }

    /// <summary>The trainable parameters this optimizer updates, in model order.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Forces the ILGPU kernel on the CPU device too (tests compare both launchers).</summary>
    internal bool UseKernelOnCpu { get; set; }

    /// <summary>The momentum buffer of <paramref name="parameter"/>.</summary>
    public Tensor MomentumOf(Parameter parameter)
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            if (ReferenceEquals(Parameters[i], parameter) || Parameters[i].Name == parameter.Name) return velocities[i];
        }
        throw new ArgumentException($"{parameter.Name} is not updated by this optimizer.", nameof(parameter));
    }

    /// <summary>The name a parameter's momentum buffer has in a checkpoint: <c>optimizer.&lt;name&gt;.momentum</c>.</summary>
    public static string StateName(Parameter parameter) => StatePrefix + parameter.Name + MomentumSuffix;

    /// <summary>Applies one update with the gradients the last backward pass left in the parameters.</summary>
    public void Step(double learningRate)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!double.IsFinite(learningRate) || learningRate < 0) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite and non-negative.");
        for (var i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            var step = new SgdStep((float)learningRate, (float)Options.Momentum, decays[i] ? (float)Options.WeightDecay : 0f, Options.Nesterov ? 1 : 0, 0);
            if (p.Value.Device.IsCpu && !UseKernelOnCpu) StepOnHost(p.Value.HostSpan, p.Gradient!.HostSpan, velocities[i].HostSpan, step);
            else StepOnDevice(p, velocities[i], step);
        }
    }

    /// <summary>One element of the update; the kernel and the host loop both call it, so they agree bit for bit.</summary>
    internal static float Update(float value, float gradient, float velocity, SgdStep step, out float newVelocity)
    {
        var d = gradient + step.WeightDecay * value;
        newVelocity = step.Momentum * velocity + d;
        var direction = step.Nesterov != 0 ? d + step.Momentum * newVelocity : newVelocity;
        return value - step.LearningRate * direction;
    }

    /// <summary>Grid-stride: thread t updates t, t + stride, ... (stride = the launched thread count).</summary>
    [Kernels.DeviceKernel]
    internal static void UpdateKernel(
        Index1D index,
        ArrayView1D<float, Stride1D.Dense> value,
        ArrayView1D<float, Stride1D.Dense> gradient,
        ArrayView1D<float, Stride1D.Dense> velocity,
        SgdStep step)
    {
        for (var i = index.X; i < value.IntLength; i += step.Stride)
        {
            value[i] = Update(value[i], gradient[i], velocity[i], step, out var v);
            velocity[i] = v;
        }
    }

    private static void StepOnHost(Span<float> value, Span<float> gradient, Span<float> velocity, SgdStep step)
    {
        if (value.Length <= ParallelChunk)
        {
            StepRange(value, gradient, velocity, step);
            return;
        }
        unsafe
        {
            fixed (float* pv = value, pg = gradient, pm = velocity)
            {
                var (v, g, m, n) = ((nint)pv, (nint)pg, (nint)pm, value.Length);
                Parallel.For(0, (n + ParallelChunk - 1) / ParallelChunk, chunk =>
                {
                    var start = chunk * ParallelChunk;
                    var length = Math.Min(ParallelChunk, n - start);
                    StepRange(
                        new Span<float>((float*)v + start, length),
                        new Span<float>((float*)g + start, length),
                        new Span<float>((float*)m + start, length),
                        step);
                });
            }
        }
    }

    private static void StepRange(Span<float> value, Span<float> gradient, Span<float> velocity, SgdStep step)
    {
        for (var i = 0; i < value.Length; i++)
        {
            value[i] = Update(value[i], gradient[i], velocity[i], step, out var v);
            velocity[i] = v;
        }
    }

    private void StepOnDevice(Parameter p, Tensor velocity, SgdStep step)
    {
        var accelerator = p.Value.Device.Accelerator;
        kernel ??= accelerator.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView1D<float, Stride1D.Dense>, ArrayView1D<float, Stride1D.Dense>, ArrayView1D<float, Stride1D.Dense>, SgdStep>(UpdateKernel);
        var resident = (long)accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor;
        var threads = (int)Math.Max(1, Math.Min(p.Length, resident));
        kernel(threads, p.Value.View, p.Gradient!.View, velocity.View, step with { Stride = threads });
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var v in velocities) v.Dispose();
    }
}
