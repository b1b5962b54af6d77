using ILGPU;
using ILGPU.Runtime;
using Buf = Igcv2.Kernels.HostKernels.Buf;

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
    private readonly bool host;
    private readonly Backend backend;
    private readonly Dictionary<(int, int, int, int), Tensor> fusedScratch = [];

    private Action<Index1D, ConvGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>? conv2d, conv2dBackwardInput;
    private Action<KernelConfig, ConvGeometry, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>? conv2dBackwardWeight;

    internal Ops(Device device)
    {
        this.device = device;
        accelerator = device.Accelerator;
        host = device.IsCpu && device.CpuLauncher == CpuLauncher.HostParallel;
        backend = new Backend(accelerator, host);
    }

    /// <summary>The launcher in use: CUDA devices report <see cref="Kernels.CpuLauncher.Accelerator"/>.</summary>
    internal CpuLauncher Launcher => host ? CpuLauncher.HostParallel : CpuLauncher.Accelerator;

    // ---------------------------------------------------------------- convolution

    /// <summary>
    /// Group convolution, square kernel k = w.Dim(2) (3 or 1), padding k/2, stride 1 or 2.
    /// x [N, Cin, H, W], w [Cout, Cin/groups, k, k], y [N, Cout, Ho, Wo] with Ho = (H-1)/stride+1.
    /// </summary>
    public void Conv2d(Tensor x, Tensor w, Tensor y, int n, int groups, int stride)
    {
        using var timing = TimeConv(nameof(Conv2d), x, w, groups, stride);
        var g = ConvShape(nameof(Conv2d), x, "x", w, y, "y", n, groups, stride);
        NotSame(nameof(Conv2d), x, "x", y, "y");
        if (host) HostKernels.Conv2d(g, new Buf(x), new Buf(w), new Buf(y));
        else Launch(ref conv2d, DeviceKernels.Conv2d, g, g.N * g.Cout * g.Ho * g.Wo, x, w, y);
    }

    /// <summary>Writes gx, the gradient of <see cref="Conv2d"/> with respect to x.</summary>
    public void Conv2dBackwardInput(Tensor gy, Tensor w, Tensor gx, int n, int groups, int stride)
    {
        using var timing = TimeConv(nameof(Conv2dBackwardInput), gx, w, groups, stride);
        var g = ConvShape(nameof(Conv2dBackwardInput), gx, "gx", w, gy, "gy", n, groups, stride);
        NotSame(nameof(Conv2dBackwardInput), gy, "gy", gx, "gx");
        if (host) HostKernels.Conv2dBackwardInput(g, new Buf(gy), new Buf(w), new Buf(gx));
        else Launch(ref conv2dBackwardInput, DeviceKernels.Conv2dBackwardInput, g, g.N * g.Cin * g.H * g.W, gy, w, gx);
    }

    /// <summary>Writes gw, the gradient of <see cref="Conv2d"/> with respect to w (one worker owns a weight).</summary>
    public void Conv2dBackwardWeight(Tensor x, Tensor gy, Tensor gw, int n, int groups, int stride)
    {
        using var timing = TimeConv(nameof(Conv2dBackwardWeight), x, gw, groups, stride);
        var g = ConvShape(nameof(Conv2dBackwardWeight), x, "x", gw, gy, "gy", n, groups, stride);
        if (host) HostKernels.Conv2dBackwardWeight(g, new Buf(x), new Buf(gy), new Buf(gw));
        else LaunchBackwardWeight(g, x, gy, gw);
    }

    /// <summary>The device's weight gradient: one group per weight.</summary>
    private void LaunchBackwardWeight(ConvGeometry g, Tensor x, Tensor gy, Tensor gw)
    {
        int weights = (int)gw.Length;
        conv2dBackwardWeight ??= accelerator.LoadStreamKernel<ConvGeometry, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DeviceKernels.Conv2dBackwardWeightGrouped);
        conv2dBackwardWeight(Groups(weights), g, weights, x.Flat, gy.Flat, gw.Flat);
    }

    /// <summary>
    /// A 1x1 group convolution of P(BN(x)), which is never stored: its input y[:, j] = BN(x)[:, src(j)] with src the
    /// <see cref="ChannelShuffle"/> of <paramref name="shuffleGroups"/> branches (1: the identity) and BN with the batch
    /// statistics <see cref="BatchNormTrainingStatistics"/> saved. y as <see cref="Conv2d"/> of that input would write it,
    /// bit for bit on the host, where each sample's branch input is normalised in cache just before it is used.
    /// </summary>
    public void BatchNormShuffleConv2d(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, int shuffleGroups,
        Tensor w, Tensor y, int n, int groups)
    {
        using var timing = TimeConv(nameof(BatchNormShuffleConv2d), x, w, groups, 1);
        const string op = nameof(BatchNormShuffleConv2d);
        var g = NormalizedInputShape(op, x, gamma, beta, savedMean, savedInvStd, shuffleGroups, w, "w", y, "y", n, groups);
        NotSame(op, x, "x", y, "y");
        if (host)
        {
            HostKernels.BatchNormShuffleConv2d(g, shuffleGroups, new Buf(x), new Buf(gamma), new Buf(beta), new Buf(savedMean), new Buf(savedInvStd), new Buf(w), new Buf(y));
            return;
        }
        var input = NormalizedOnDevice(x, gamma, beta, savedMean, savedInvStd, shuffleGroups, n);
        Launch(ref conv2d, DeviceKernels.Conv2d, g, g.N * g.Cout * g.Ho * g.Wo, input, w, y);
    }

    /// <summary>P(BN(x)) with the saved statistics, on the device: into a scratch tensor (one per shape), for the plain kernels to read.</summary>
    private Tensor NormalizedOnDevice(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, int shuffleGroups, int n)
    {
        var input = FusedScratch(x);
        BatchNorm.NormalizeOnDevice(backend, n, x.Dim(1), x.Dim(2) * x.Dim(3), x, gamma, beta, savedMean, savedInvStd, input, new Epilogue(shuffleGroups, null, Design.Activation.None));
        return input;
    }

    /// <summary>The checks of the ops whose 1x1 convolution reads P(BN(x)); returns the convolution's geometry.</summary>
    private ConvGeometry NormalizedInputShape(string op, Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, int shuffleGroups,
        Tensor w, string wName, Tensor y, string yName, int n, int groups)
    {
        var g = ConvShape(op, x, "x", w, y, yName, n, groups, 1);
        if (g.K != 1) throw new ArgumentException($"{op}: the convolution must be 1x1, got {wName} {w.ShapeText}.", wName);
        if (shuffleGroups <= 0 || g.Cin % shuffleGroups != 0)
        {
            throw new ArgumentException($"{op}: shuffleGroups = {shuffleGroups} must be positive and divide the {g.Cin} channels of x {x.ShapeText}.", nameof(shuffleGroups));
        }
        foreach (var (t, name) in new[] { (gamma, "gamma"), (beta, "beta"), (savedMean, "savedMean"), (savedInvStd, "savedInvStd") })
        {
            Exact(op, t, name, g.Cin);
        }
        return g;
    }

    /// <summary>
    /// The weight gradient of a 1x1 group convolution whose input is P(BN(x)), never stored: y[:, j] = BN(x)[:, src(j)]
    /// with src the <see cref="ChannelShuffle"/> of <paramref name="shuffleGroups"/> branches (1: the identity) and BN
    /// with the statistics its training forward saved. gw as <see cref="Conv2dBackwardWeight"/> of that input would
    /// write it, bit for bit on the host, where the input is normalised a chunk at a time in cache.
    /// </summary>
    public void BatchNormShuffleConv2dBackwardWeight(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, int shuffleGroups,
        Tensor gy, Tensor gw, int n, int groups)
    {
        using var timing = TimeConv(nameof(BatchNormShuffleConv2dBackwardWeight), x, gw, groups, 1);
        const string op = nameof(BatchNormShuffleConv2dBackwardWeight);
        var g = NormalizedInputShape(op, x, gamma, beta, savedMean, savedInvStd, shuffleGroups, gw, "gw", gy, "gy", n, groups);
        if (host)
        {
            HostKernels.BatchNormShuffleConv2dBackwardWeight(g, shuffleGroups, new Buf(x), new Buf(gamma), new Buf(beta), new Buf(savedMean), new Buf(savedInvStd), new Buf(gy), new Buf(gw));
            return;
        }
        LaunchBackwardWeight(g, NormalizedOnDevice(x, gamma, beta, savedMean, savedInvStd, shuffleGroups, n), gy, gw);
    }

    /// <summary>
    /// P_l, the skip add and the activation in one pass (<see cref="Fused.ShuffleActivation"/>):
    /// y[:, o] = act(x[:, src(o)] + skip[:, o]) with src the <see cref="ChannelShuffle"/> of <paramref name="groups"/>
    /// branches. <paramref name="skip"/> may be null (no add) and may be y's own memory; x must not be.
    /// </summary>
    public void ShuffleAddActivation(Tensor x, Tensor? skip, Tensor y, int n, int groups, Design.Activation activation)
    {
        using var timing = Time(nameof(ShuffleAddActivation), x);
        const string op = nameof(ShuffleAddActivation);
        int channels = ShuffleShape(op, x, "x", y, "y", n, groups);
        if (skip is not null) Batched(op, skip, "skip", n, x.Dim(1), x.Dim(2), x.Dim(3));
        backend.Run(new Fused.ShuffleActivation.Forward(n, channels, groups, x.Dim(2) * x.Dim(3), activation, x, skip, y));
    }

    /// <summary>
    /// The backward of <see cref="ShuffleAddActivation"/> in one pass: m = gy * act'(y); gSkip = m (when not null);
    /// gx[:, o] = m[:, src(o)] with src the <see cref="ChannelShuffle"/> of <paramref name="groups"/> branches, the
    /// inverse permutation's (C / the forward groups).
    /// </summary>
    public void ActivationBackwardShuffle(Tensor y, Tensor gy, Tensor gx, Tensor? gSkip, int n, int groups, Design.Activation activation)
    {
        using var timing = Time(nameof(ActivationBackwardShuffle), gy);
        const string op = nameof(ActivationBackwardShuffle);
        int channels = ShuffleShape(op, gy, "gy", gx, "gx", n, groups);
        Batched(op, y, "y", n, gy.Dim(1), gy.Dim(2), gy.Dim(3));
        NotSame(op, y, "y", gx, "gx");
        if (gSkip is not null)
        {
            Batched(op, gSkip, "gSkip", n, gy.Dim(1), gy.Dim(2), gy.Dim(3));
            NotSame(op, gy, "gy", gSkip, "gSkip");
            NotSame(op, gx, "gx", gSkip, "gSkip");
        }
        backend.Run(new Fused.ShuffleActivation.Backward(n, channels, groups, gy.Dim(2) * gy.Dim(3), activation, y, gy, gx, gSkip));
    }

    /// <summary>The checks a permutation op shares with <see cref="ChannelShuffle"/>; returns the channel count.</summary>
    private int ShuffleShape(string op, Tensor x, string xName, Tensor y, string yName, int n, int groups)
    {
        Image(op, x, xName, n);
        int channels = x.Dim(1);
        if (groups <= 0 || channels % groups != 0)
        {
            throw new ArgumentException($"{op}: groups = {groups} must be positive and divide the {channels} channels of {xName} {x.ShapeText}.", nameof(groups));
        }
        Batched(op, y, yName, n, x.Dim(1), x.Dim(2), x.Dim(3));
        NotSame(op, x, xName, y, yName);
        return channels;
    }

    /// <summary>Frees the scratch buffers; the owning <see cref="Device"/> calls this when it is disposed.</summary>
    internal void Release()
    {
        backend.Dispose();
        foreach (var t in fusedScratch.Values) t.Dispose();
        fusedScratch.Clear();
        foreach (var (gGamma, gBeta) in syncScratch.Values)
        {
            gGamma.Dispose();
            gBeta.Dispose();
        }
        syncScratch.Clear();
    }

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
        if (!host) accelerator.Synchronize();
        return new OpProfiler.Scope(Profiler, op, shape, System.Diagnostics.Stopwatch.GetTimestamp(), host ? null : accelerator);
    }

    // ---------------------------------------------------------------- launching

    private int Threads(int total) => backend.Threads(total);

    private KernelConfig Groups(int owners) => backend.Groups(owners);

    private void Launch(
        ref Action<Index1D, ConvGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>? kernel,
        Action<Index1D, ConvGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>> body,
        ConvGeometry g, int total, Tensor a, Tensor b, Tensor c)
    {
        kernel ??= accelerator.LoadAutoGroupedStreamKernel(body);
        kernel(Threads(total), g, total, Threads(total), a.Flat, b.Flat, c.Flat);
    }

    /// <summary>
    /// A tensor of <paramref name="like"/>'s shape, one per shape, for what a fused op materialises off the host's path:
    /// the gradient synchronised BN reads whole, the device's normalised convolution input.
    /// </summary>
    private Tensor FusedScratch(Tensor like)
    {
        var key = (like.Dim(0), like.Dim(1), like.Dim(2), like.Dim(3));
        if (!fusedScratch.TryGetValue(key, out var t))
        {
            t = device.Allocate(like.Dim(0), like.Dim(1), like.Dim(2), like.Dim(3));
            fusedScratch.Add(key, t);
        }
        return t;
    }

    private ArrayView<float> Scratch(int length) => backend.Scratch(length);

    private float[] ReadBack(ArrayView<float> view) => backend.ReadBack(view);

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
