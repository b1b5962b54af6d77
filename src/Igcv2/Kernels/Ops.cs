using ILGPU.Runtime;

namespace Igcv2.Kernels;

/// <summary>
/// The operations generated models call, bound to one <see cref="Device"/>. All tensors are NCHW float32;
/// <c>n</c> is the number of samples to process (1 &lt;= n &lt;= the batch dimension): operations touch the
/// first n samples of buffers allocated for a larger batch. Outputs are overwritten, never accumulated.
/// On CUDA (and on the CPU with <see cref="Kernels.CpuLauncher.Accelerator"/>) each call launches ILGPU
/// grid-stride kernels sized from the accelerator; on the CPU by default it runs vectorised Parallel.For
/// loops over the accelerator's host buffers. Calls are asynchronous on CUDA except the two that return
/// a value.
/// </summary>
public sealed partial class Ops
{
    private readonly Device device;
    private readonly Accelerator accelerator;
    private readonly Backend backend;

    internal Ops(Device device)
    {
        this.device = device;
        accelerator = device.Accelerator;
        backend = new Backend(device, onHost: device.IsCpu && device.CpuLauncher == CpuLauncher.HostParallel);
    }

    /// <summary>The launcher in use: CUDA devices report <see cref="Kernels.CpuLauncher.Accelerator"/>.</summary>
    internal CpuLauncher Launcher => backend.OnHost ? CpuLauncher.HostParallel : CpuLauncher.Accelerator;

    /// <summary>Frees the scratch buffers; the owning <see cref="Device"/> calls this when it is disposed.</summary>
    internal void Release() => backend.Dispose();

    // ---------------------------------------------------------------- profiling

    /// <summary>
    /// While set, every operation records its time here under its name and shape (<see cref="OpProfiler"/>); on CUDA
    /// each then waits for the device. Null (the default) records nothing.
    /// </summary>
    public OpProfiler? Profiler { get; set; }

    private OpProfiler.Scope Time(string op, Tensor t) => Profiler is null ? default : Start(op, t.ShapeText);

    /// <summary>A fused step's scope (the fused kernels live beside Ops, not in it), named by the step.</summary>
    internal OpProfiler.Scope TimeFused(string op, string name, Tensor t) => Profiler is null ? default : Start(op, name + " " + t.ShapeText);

    /// <summary>A convolution's scope, named by its kernel, stride, groups, channels and input map: "3x3 s2 g64 64->128 28x28".</summary>
    private OpProfiler.Scope TimeConv(string op, Tensor input, Tensor w, int groups, int stride) => Profiler is null ? default
        : Start(op, input.Rank == 4 && w.Rank == 4
            ? FormattableString.Invariant($"{w.Dim(2)}x{w.Dim(3)} s{stride} g{groups} {input.Dim(1)}->{w.Dim(0)} {input.Dim(2)}x{input.Dim(3)}")
            : input.ShapeText);

    private OpProfiler.Scope Start(string op, string shape)
    {
        // On the device an op is asynchronous: its scope starts after what was queued before it, and waits for it at the end.
        if (!backend.OnHost) accelerator.Synchronize();
        return new OpProfiler.Scope(Profiler, op, shape, System.Diagnostics.Stopwatch.GetTimestamp(), backend.OnHost ? null : accelerator);
    }

    // ---------------------------------------------------------------- validation

    private void Owned(string op, Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.IsDisposed) throw new ObjectDisposedException(name, $"{op}: {name} was disposed.");
        if (!ReferenceEquals(t.Device, device)) throw new ArgumentException($"{op}: {name} lives on another device ({t.Device}); this is {device}.", name);
    }

    private static void CheckN(string op, Tensor t, string name, int n)
    {
        if (n < 1 || n > t.Dim(0))
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, $"{op}: n = {n} must be in [1, {t.Dim(0)}], the batch dimension of {name} {t.ShapeText}.");
        }
    }

    /// <summary>t must be [N >= n, perSample...].</summary>
    private void Batched(string op, Tensor t, string name, int n, params int[] perSample)
    {
        Owned(op, t, name);
        bool ok = t.Rank == perSample.Length + 1;
        for (int i = 0; ok && i < perSample.Length; i++) ok = t.Dim(i + 1) == perSample[i];
        if (!ok)
        {
            throw new ArgumentException($"{op}: {name} must have shape [{string.Join(", ", perSample.Select(d => d.ToString()).Prepend("N"))}] (N >= {n}), got {t.ShapeText}.", name);
        }
        CheckN(op, t, name, n);
    }

    private void Exact(string op, Tensor t, string name, params int[] shape)
    {
        Owned(op, t, name);
        if (!t.Shape.AsSpan().SequenceEqual(shape))
        {
            throw new ArgumentException($"{op}: {name} must have shape [{string.Join(", ", shape)}], got {t.ShapeText}.", name);
        }
    }

    private void Image(string op, Tensor t, string name, int n)
    {
        Owned(op, t, name);
        if (t.Rank != 4) throw new ArgumentException($"{op}: {name} must be an NCHW image batch [N, C, H, W], got {t.ShapeText}.", name);
        CheckN(op, t, name, n);
    }

    /// <summary>a and b must not share memory: the same tensor, or views (<see cref="Tensor.Reshape"/>) of one.</summary>
    private static void NotSame(string op, Tensor a, string aName, Tensor b, string bName)
    {
        if (a.SharesMemory(b)) throw new ArgumentException($"{op}: {bName} must not be the same tensor as {aName} (nor a view of its memory).", bName);
    }

    /// <summary>The tensors must hold the same per-sample shape; returns n times the per-sample length.</summary>
    private int SameSamples(string op, int n, params (Tensor Tensor, string Name)[] tensors)
    {
        var (first, firstName) = tensors[0];
        Owned(op, first, firstName);
        CheckN(op, first, firstName, n);
        var perSample = first.Shape[1..];
        for (int i = 1; i < tensors.Length; i++) Batched(op, tensors[i].Tensor, tensors[i].Name, n, perSample);
        return checked((int)(first.Length / first.Dim(0) * n));
    }

    /// <summary>Validates a group convolution; x/w/y are the input-side, weight and output-side tensors.</summary>
    private ConvGeometry ConvShape(string op, Tensor x, string xName, Tensor w, Tensor y, string yName, int n, int groups, int stride)
    {
        Image(op, x, xName, n);
        string wName = op == nameof(Conv2dBackwardWeight) ? "gw" : "w";
        Owned(op, w, wName);
        if (w.Rank != 4 || w.Dim(2) != w.Dim(3) || (w.Dim(2) != 1 && w.Dim(2) != 3))
        {
            throw new ArgumentException($"{op}: {wName} must be [Cout, Cin/groups, k, k] with k = 1 or 3, got {w.ShapeText}.", wName);
        }
        if (stride != 1 && stride != 2) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"{op}: stride must be 1 or 2.");
        int cin = x.Dim(1), cout = w.Dim(0), k = w.Dim(2);
        if (groups <= 0 || cin % groups != 0 || cout % groups != 0)
        {
            throw new ArgumentException($"{op}: groups = {groups} must be positive and divide both Cin = {cin} ({xName} {x.ShapeText}) and Cout = {cout} ({wName} {w.ShapeText}).", nameof(groups));
        }
        if (w.Dim(1) != cin / groups)
        {
            throw new ArgumentException($"{op}: {wName} must have shape [{cout}, {cin / groups}, {k}, {k}] for Cin = {cin} in {groups} groups, got {w.ShapeText}.", wName);
        }
        var g = new ConvGeometry(n, cin, x.Dim(2), x.Dim(3), cout, k, groups, stride);
        Batched(op, y, yName, n, cout, g.Ho, g.Wo);
        return g;
    }

    private (int Inputs, int Outputs) LinearShape(string op, Tensor x, string xName, Tensor w, Tensor? b, int n)
    {
        Owned(op, x, xName);
        Owned(op, w, "w");
        if (x.Rank < 2) throw new ArgumentException($"{op}: {xName} must be [N, In], got {x.ShapeText}.", xName);
        CheckN(op, x, xName, n);
        int inputs = checked((int)(x.Length / x.Dim(0)));
        if (w.Rank != 2 || w.Dim(1) != inputs)
        {
            throw new ArgumentException($"{op}: w must have shape [Out, {inputs}] for x {x.ShapeText}, got {w.ShapeText}.", "w");
        }
        if (b is not null) Exact(op, b, "b", w.Dim(0));
        return (inputs, w.Dim(0));
    }

    /// <summary>t must be [N >= n, F]; returns F.</summary>
    private int Features(string op, Tensor t, string name, int n)
    {
        Owned(op, t, name);
        if (t.Rank != 2) throw new ArgumentException($"{op}: {name} must be [N, F], got {t.ShapeText}.", name);
        CheckN(op, t, name, n);
        return t.Dim(1);
    }

    private int Logits(string op, Tensor logits, Labels labels, int n)
    {
        Owned(op, logits, "logits");
        if (logits.Rank != 2) throw new ArgumentException($"{op}: logits must be [N, Classes], got {logits.ShapeText}.", nameof(logits));
        CheckN(op, logits, "logits", n);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.IsDisposed) throw new ObjectDisposedException(nameof(labels), $"{op}: labels was disposed.");
        if (!ReferenceEquals(labels.Device, device)) throw new ArgumentException($"{op}: labels lives on another device ({labels.Device}); this is {device}.", nameof(labels));
        if (labels.Length < n) throw new ArgumentException($"{op}: labels holds {labels.Length} class indices, fewer than n = {n}.", nameof(labels));
        return logits.Dim(1);
    }
}
