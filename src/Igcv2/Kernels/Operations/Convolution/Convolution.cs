using ILGPU;
using ILGPU.Runtime;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>
    /// Group convolution, square kernel k = w.Dim(2) (3 or 1), padding k/2, stride 1 or 2.
    /// x [N, Cin, H, W], w [Cout, Cin/groups, k, k], y [N, Cout, Ho, Wo] with Ho = (H-1)/stride+1.
    /// </summary>
    public void Conv2d(Tensor x, Tensor w, Tensor y, int n, int groups, int stride)
    {
        using var timing = TimeConv(nameof(Conv2d), x, w, groups, stride);
        var g = ConvShape(nameof(Conv2d), x, "x", w, y, "y", n, groups, stride);
        NotSame(nameof(Conv2d), x, "x", y, "y");
        backend.Run(new Convolution.Forward(g, x, w, y));
    }

    /// <summary>Writes gx, the gradient of <see cref="Conv2d"/> with respect to x.</summary>
    public void Conv2dBackwardInput(Tensor gy, Tensor w, Tensor gx, int n, int groups, int stride)
    {
        using var timing = TimeConv(nameof(Conv2dBackwardInput), gx, w, groups, stride);
        var g = ConvShape(nameof(Conv2dBackwardInput), gx, "gx", w, gy, "gy", n, groups, stride);
        NotSame(nameof(Conv2dBackwardInput), gy, "gy", gx, "gx");
        backend.Run(new Convolution.BackwardInput(g, gy, w, gx));
    }

    /// <summary>Writes gw, the gradient of <see cref="Conv2d"/> with respect to w (one worker owns a weight).</summary>
    public void Conv2dBackwardWeight(Tensor x, Tensor gy, Tensor gw, int n, int groups, int stride)
    {
        using var timing = TimeConv(nameof(Conv2dBackwardWeight), x, gw, groups, stride);
        var g = ConvShape(nameof(Conv2dBackwardWeight), x, "x", gw, gy, "gy", n, groups, stride);
        backend.Run(new Convolution.BackwardWeight(g, x, gy, gw));
    }

    /// <summary>
    /// Both gradients of <see cref="Conv2d"/>: gw, and gx unless it is null, as <see cref="Conv2dBackwardWeight"/> and
    /// <see cref="Conv2dBackwardInput"/> write them. On the host a 1x1 stride-1 convolution with at least two branches a
    /// core takes both from one pass over gy (each branch's gy rows serve the weight gradient and then, still in cache, the input
    /// gradient), the same numbers bit for bit; otherwise, and on the device, the two passes run in turn.
    /// </summary>
    public void Conv2dBackward(Tensor x, Tensor gy, Tensor w, Tensor gw, Tensor? gx, int n, int groups, int stride)
    {
        using var timing = TimeConv(nameof(Conv2dBackward), x, w, groups, stride);
        const string op = nameof(Conv2dBackward);
        var g = ConvShape(op, x, "x", w, gy, "gy", n, groups, stride);
        BackwardOutputs(op, g, x, gy, w, gw, gx, n);
        backend.Run(new Convolution.Backward(g, x, gy, w, gw, gx));
    }

    /// <summary>
    /// Both gradients of <see cref="BatchNormShuffleConv2d"/> (the input P(BN(x)), never stored): gw as
    /// <see cref="BatchNormShuffleConv2dBackwardWeight"/> and gx (the gradient at P(BN(x)), unless null) as
    /// <see cref="Conv2dBackwardInput"/> write them, in one pass over gy on the host where <see cref="Conv2dBackward"/> fuses.
    /// </summary>
    public void BatchNormShuffleConv2dBackward(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, int shuffleGroups,
        Tensor gy, Tensor w, Tensor gw, Tensor? gx, int n, int groups)
    {
        using var timing = TimeConv(nameof(BatchNormShuffleConv2dBackward), x, w, groups, 1);
        const string op = nameof(BatchNormShuffleConv2dBackward);
        var g = NormalizedInputShape(op, x, gamma, beta, savedMean, savedInvStd, shuffleGroups, w, "w", gy, "gy", n, groups);
        BackwardOutputs(op, g, x, gy, w, gw, gx, n);
        backend.Run(new Convolution.NormalizedBackward(g, new(shuffleGroups, x, gamma, beta, savedMean, savedInvStd), gy, w, gw, gx));
    }

    /// <summary>The checks of the two outputs of a fused backward: neither may share memory with what is still being read.</summary>
    private void BackwardOutputs(string op, ConvGeometry g, Tensor x, Tensor gy, Tensor w, Tensor gw, Tensor? gx, int n)
    {
        Exact(op, gw, "gw", w.Shape);
        foreach (var (t, name) in new[] { (x, "x"), (gy, "gy"), (w, "w") }) NotSame(op, t, name, gw, "gw");
        if (gx is null) return;
        Batched(op, gx, "gx", n, g.Cin, g.H, g.W);
        foreach (var (t, name) in new[] { (x, "x"), (gy, "gy"), (w, "w"), (gw, "gw") }) NotSame(op, t, name, gx, "gx");
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
        backend.Run(new Convolution.NormalizedForward(g, new(shuffleGroups, x, gamma, beta, savedMean, savedInvStd), w, y));
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
        backend.Run(new Convolution.NormalizedBackwardWeight(g, new(shuffleGroups, x, gamma, beta, savedMean, savedInvStd), gy, gw));
    }
}

/// <summary>
/// The group convolutions W_l of an IGCV2 block (paper eq. 3: a 3x3 channel-wise or group convolution, then the 1x1
/// group convolutions), forward and both gradients, and the 1x1 forms whose input is P(BN(x)), never stored (the
/// training path). The checks are in <see cref="Ops"/>, the host loops in Convolution.Host.cs and the tiles beside
/// it, the ILGPU kernels in Convolution.Device.cs; the steps below pick between them.
/// </summary>
internal static partial class Convolution
{
    /// <summary>What a normalised input is made of: x, BN's parameters and saved statistics, P's branches (1: the identity).</summary>
    public readonly record struct NormalizedInput(int ShuffleGroups, Tensor X, Tensor Gamma, Tensor Beta, Tensor SavedMean, Tensor SavedInvStd)
    {
        /// <summary>The device's input: P(BN(x)) written to a scratch tensor (one per shape) for the plain kernels to read.</summary>
        public Tensor OnDevice(Backend backend, ConvGeometry g)
        {
            var input = backend.ScratchLike(X);
            BatchNorm.NormalizeOnDevice(backend, g.N, g.Cin, g.H * g.W, X, Gamma, Beta, SavedMean, SavedInvStd, input, new Ops.Epilogue(ShuffleGroups, null, Design.Activation.None));
            return input;
        }
    }

    /// <summary>y = W x.</summary>
    public readonly record struct Forward(ConvGeometry G, Tensor X, Tensor W, Tensor Y) : IKernel
    {
        public void OnHost() => ForwardOnHost(G, new Buf(X), new Buf(W), new Buf(Y));

        public void OnDevice(Backend backend) => Launch(backend, G, X, W, Y);

        public static void Launch(Backend backend, ConvGeometry g, Tensor x, Tensor w, Tensor y)
        {
            int total = g.N * g.Cout * g.Ho * g.Wo;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, ConvGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel));
            kernel(backend.Threads(total), g, total, backend.Threads(total), x.Flat, w.Flat, y.Flat);
        }
    }

    /// <summary>gx = W^T gy.</summary>
    public readonly record struct BackwardInput(ConvGeometry G, Tensor Gy, Tensor W, Tensor Gx) : IKernel
    {
        public void OnHost() => BackwardInputOnHost(G, new Buf(Gy), new Buf(W), new Buf(Gx));

        public void OnDevice(Backend backend) => Launch(backend, G, Gy, W, Gx);

        public static void Launch(Backend backend, ConvGeometry g, Tensor gy, Tensor w, Tensor gx)
        {
            int total = g.N * g.Cin * g.H * g.W;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, ConvGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardInputKernel));
            kernel(backend.Threads(total), g, total, backend.Threads(total), gy.Flat, w.Flat, gx.Flat);
        }
    }

    /// <summary>gw = gy x^T, one worker (on the device, one group) per weight.</summary>
    public readonly record struct BackwardWeight(ConvGeometry G, Tensor X, Tensor Gy, Tensor Gw) : IKernel
    {
        public void OnHost() => BackwardWeightOnHost(G, new Buf(X), new Buf(Gy), new Buf(Gw));

        public void OnDevice(Backend backend) => Launch(backend, G, X, Gy, Gw);

        public static void Launch(Backend backend, ConvGeometry g, Tensor x, Tensor gy, Tensor gw)
        {
            int weights = (int)gw.Length;
            var kernel = backend.Load(static a => a.LoadStreamKernel<ConvGeometry, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardWeightGrouped));
            kernel(backend.Groups(weights), g, weights, x.Flat, gy.Flat, gw.Flat);
        }
    }

    /// <summary>y = W P(BN(x)): on the host each sample's branch input is normalised in cache just before it is used.</summary>
    public readonly record struct NormalizedForward(ConvGeometry G, NormalizedInput Input, Tensor W, Tensor Y) : IKernel
    {
        public void OnHost() => NormalizedForwardOnHost(G, Input, new Buf(W), new Buf(Y));

        public void OnDevice(Backend backend) => Forward.Launch(backend, G, Input.OnDevice(backend, G), W, Y);
    }

    /// <summary>gw = gy P(BN(x))^T: on the host the input is rebuilt a chunk at a time in cache.</summary>
    public readonly record struct NormalizedBackwardWeight(ConvGeometry G, NormalizedInput Input, Tensor Gy, Tensor Gw) : IKernel
    {
        public void OnHost() => NormalizedBackwardWeightOnHost(G, Input, new Buf(Gy), new Buf(Gw));

        public void OnDevice(Backend backend) => BackwardWeight.Launch(backend, G, Input.OnDevice(backend, G), Gy, Gw);
    }

    /// <summary>
    /// gw = gy x^T and, unless <see cref="Gx"/> is null, gx = W^T gy: one pass over gy where <see cref="FusesBackward"/>,
    /// else the <see cref="BackwardWeight"/> and <see cref="BackwardInput"/> steps in turn.
    /// </summary>
    public readonly record struct Backward(ConvGeometry G, Tensor X, Tensor Gy, Tensor W, Tensor Gw, Tensor? Gx) : IKernel
    {
        public void OnHost()
        {
            if (Gx is not null && FusesBackward(G))
            {
                PointwiseBackwardOnHost(G, new Buf(X), new Buf(Gy), new Buf(W), new Buf(Gw), new Buf(Gx));
                return;
            }
            new BackwardWeight(G, X, Gy, Gw).OnHost();
            if (Gx is not null) new BackwardInput(G, Gy, W, Gx).OnHost();
        }

        public void OnDevice(Backend backend)
        {
            new BackwardWeight(G, X, Gy, Gw).OnDevice(backend);
            if (Gx is not null) new BackwardInput(G, Gy, W, Gx).OnDevice(backend);
        }
    }

    /// <summary>As <see cref="Backward"/> for the input P(BN(x)), rebuilt where the weight gradient reads it (<see cref="NormalizedBackwardWeight"/> when not fused).</summary>
    public readonly record struct NormalizedBackward(ConvGeometry G, NormalizedInput Input, Tensor Gy, Tensor W, Tensor Gw, Tensor? Gx) : IKernel
    {
        public void OnHost()
        {
            if (Gx is not null && FusesBackward(G))
            {
                NormalizedBackwardOnHost(G, Input, new Buf(Gy), new Buf(W), new Buf(Gw), new Buf(Gx));
                return;
            }
            new NormalizedBackwardWeight(G, Input, Gy, Gw).OnHost();
            if (Gx is not null) new BackwardInput(G, Gy, W, Gx).OnHost();
        }

        public void OnDevice(Backend backend)
        {
            new NormalizedBackwardWeight(G, Input, Gy, Gw).OnDevice(backend);
            if (Gx is not null) new BackwardInput(G, Gy, W, Gx).OnDevice(backend);
        }
    }
}
