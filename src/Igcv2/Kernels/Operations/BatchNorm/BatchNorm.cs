using ILGPU;
using ILGPU.Runtime;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>
    /// Batch norm with batch statistics over (n, H, W) per channel. savedMean / savedInvStd [C] receive the mean
    /// and 1/sqrt(var + eps) for <see cref="BatchNormBackward"/>; running statistics are updated PyTorch-style,
    /// running = (1 - momentum) running + momentum stat, with the unbiased variance for runningVar.
    /// </summary>
    public void BatchNormTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor savedMean, Tensor savedInvStd,
        Tensor runningMean, Tensor runningVar, int n, float momentum, float epsilon)
    {
        using var timing = Time(nameof(BatchNormTraining), x);
        BatchNormTraining(nameof(BatchNormTraining), x, gamma, beta, y, savedMean, savedInvStd, runningMean, runningVar, n, momentum, epsilon, Epilogue.None);
    }

    /// <summary>
    /// BN_l with batch statistics, then P_l, the skip add and the activation, in one normalising pass:
    /// y[:, o] = act(BN(x)[:, src(o)] + skip[:, o]) with src the <see cref="ChannelShuffle"/> of <paramref name="groups"/>
    /// branches, BN_l's output written straight to its permuted place. The same numbers, bit for bit, as
    /// <see cref="BatchNormTraining"/> into a scratch tensor followed by <see cref="ShuffleAddActivation"/>, without
    /// writing and reading that tensor. <paramref name="skip"/> may be null (no add) and may be y's own memory.
    /// </summary>
    public void BatchNormShuffleAddActivation(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd,
        Tensor runningMean, Tensor runningVar, Tensor? skip, Tensor y, int n, float momentum, float epsilon, int groups, Design.Activation activation)
    {
        using var timing = Time(nameof(BatchNormShuffleAddActivation), x);
        const string op = nameof(BatchNormShuffleAddActivation);
        ShuffleShape(op, x, "x", y, "y", n, groups);
        if (skip is not null) Batched(op, skip, "skip", n, x.Dim(1), x.Dim(2), x.Dim(3));
        BatchNormTraining(op, x, gamma, beta, y, savedMean, savedInvStd, runningMean, runningVar, n, momentum, epsilon, new Epilogue(groups, skip, activation));
    }

    /// <summary>What follows BN_l's normalisation in the same store: P_l (its branch count; 1 is the identity), the skip, the activation.</summary>
    internal readonly record struct Epilogue(int Groups, Tensor? Skip, Design.Activation Activation)
    {
        public static Epilogue None => new(1, null, Design.Activation.None);

        public bool IsNone => Groups == 1 && Skip is null && Activation == Design.Activation.None;
    }

    /// <summary>
    /// BN's batch statistics alone: savedMean, savedInvStd and the running statistics exactly as
    /// <see cref="BatchNormTraining"/> writes them, without its normalising pass (the next 1x1 convolution
    /// normalises its input as it loads it: <see cref="BatchNormShuffleConv2d"/>).
    /// </summary>
    public void BatchNormTrainingStatistics(Tensor x, Tensor savedMean, Tensor savedInvStd, Tensor runningMean, Tensor runningVar, int n, float momentum, float epsilon)
    {
        using var timing = Time(nameof(BatchNormTrainingStatistics), x);
        BatchNormTraining(nameof(BatchNormTrainingStatistics), x, null, null, null, savedMean, savedInvStd, runningMean, runningVar, n, momentum, epsilon, Epilogue.None);
    }

    /// <summary>BN in training mode; with no <paramref name="y"/> (and no gamma, beta) the statistics alone.</summary>
    private void BatchNormTraining(string op, Tensor x, Tensor? gamma, Tensor? beta, Tensor? y, Tensor savedMean, Tensor savedInvStd,
        Tensor runningMean, Tensor runningVar, int n, float momentum, float epsilon, Epilogue epilogue)
    {
        Image(op, x, "x", n);
        int channels = x.Dim(1), plane = x.Dim(2) * x.Dim(3);
        if (y is not null) Batched(op, y, "y", n, channels, x.Dim(2), x.Dim(3));
        foreach (var (t, name) in new[] { (gamma, "gamma"), (beta, "beta"), (savedMean, "savedMean"), (savedInvStd, "savedInvStd"), (runningMean, "runningMean"), (runningVar, "runningVar") })
        {
            if (t is not null || y is not null) Exact(op, t!, name, channels);
        }
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"{op}: epsilon must be positive.");
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{op}: momentum must be in [0, 1].");
        if (StatisticsReducer is { } reducer)
        {
            SynchronizedBatchNormTraining(reducer, x, gamma, beta, y, savedMean, savedInvStd, runningMean, runningVar, n, momentum, epsilon, epilogue);
            return;
        }
        if ((long)n * plane < 2)
        {
            // One value per channel: the batch variance is 0, every output is beta and no gradient passes.
            throw new ArgumentException($"{op}: batch statistics need more than one value per channel, got n = {n} over a {x.Dim(2)}x{x.Dim(3)} map. " +
                "Train with at least 2 samples per batch (a BN on a 1x1 map, as in the grouped classifier head after the pooling, sees only the batch), or use inference mode.", nameof(n));
        }
        if (y is null) backend.Run(new BatchNorm.Statistics(n, channels, plane, momentum, epsilon, x, savedMean, savedInvStd, runningMean, runningVar));
        else backend.Run(new BatchNorm.Training(n, channels, plane, momentum, epsilon, x, gamma!, beta!, y, savedMean, savedInvStd, runningMean, runningVar, epilogue));
    }

    /// <summary>Batch norm with the running statistics: y = (x - runningMean) gamma / sqrt(runningVar + eps) + beta.</summary>
    public void BatchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, int n, float epsilon)
    {
        using var timing = Time(nameof(BatchNormInference), x);
        const string op = nameof(BatchNormInference);
        Image(op, x, "x", n);
        int channels = x.Dim(1), plane = x.Dim(2) * x.Dim(3);
        Batched(op, y, "y", n, channels, x.Dim(2), x.Dim(3));
        foreach (var (t, name) in new[] { (gamma, "gamma"), (beta, "beta"), (runningMean, "runningMean"), (runningVar, "runningVar") })
        {
            Exact(op, t, name, channels);
        }
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"{op}: epsilon must be positive.");
        backend.Run(new BatchNorm.Inference(n, channels, plane, epsilon, x, gamma, beta, runningMean, runningVar, y));
    }

    /// <summary>Gradients of <see cref="BatchNormTraining"/> (batch statistics): writes gx, gGamma and gBeta.</summary>
    public void BatchNormBackward(Tensor x, Tensor gy, Tensor gamma, Tensor savedMean, Tensor savedInvStd, Tensor gx, Tensor gGamma, Tensor gBeta, int n)
    {
        using var timing = Time(nameof(BatchNormBackward), x);
        const string op = nameof(BatchNormBackward);
        Image(op, x, "x", n);
        int channels = x.Dim(1), plane = x.Dim(2) * x.Dim(3);
        Batched(op, gy, "gy", n, channels, x.Dim(2), x.Dim(3));
        Batched(op, gx, "gx", n, channels, x.Dim(2), x.Dim(3));
        foreach (var (t, name) in new[] { (gamma, "gamma"), (savedMean, "savedMean"), (savedInvStd, "savedInvStd"), (gGamma, "gGamma"), (gBeta, "gBeta") })
        {
            Exact(op, t, name, channels);
        }
        if (StatisticsReducer is { } reducer)
        {
            SynchronizedBatchNormBackward(reducer, x, gy, gamma, savedMean, savedInvStd, gx, gGamma, gBeta, n);
            return;
        }
        backend.Run(new BatchNorm.Backward(n, channels, plane, x, gy, gamma, savedMean, savedInvStd, gx, gGamma, gBeta));
    }

    /// <summary>
    /// The backward of <see cref="BatchNormShuffleAddActivation"/> in one op: m = gy act'(y) (the skip's share, into
    /// <paramref name="gSkip"/> when not null), P_l^-1 (m[:, src(o)] with src the <see cref="ChannelShuffle"/> of
    /// <paramref name="groups"/> branches, the inverse permutation's), then BN_l's backward with x its input: gx, gGamma
    /// and gBeta as <see cref="ActivationBackwardShuffle"/> into a tensor followed by <see cref="BatchNormBackward"/>
    /// would write them (bit for bit on the host), without writing and reading that tensor. y is read only for the
    /// activation's derivative: with no activation it may be null.
    /// </summary>
    public void ActivationShuffleBatchNormBackward(Tensor? y, Tensor gy, Tensor? gSkip, int groups, Design.Activation activation,
        Tensor x, Tensor gamma, Tensor savedMean, Tensor savedInvStd, Tensor gx, Tensor gGamma, Tensor gBeta, int n)
    {
        using var timing = Time(nameof(ActivationShuffleBatchNormBackward), gy);
        const string op = nameof(ActivationShuffleBatchNormBackward);
        int channels = ShuffleShape(op, gy, "gy", gx, "gx", n, groups);
        if (y is null && activation != Design.Activation.None)
        {
            throw new ArgumentNullException(nameof(y), $"{op}: the {activation} derivative reads the forward output y.");
        }
        Batched(op, x, "x", n, gy.Dim(1), gy.Dim(2), gy.Dim(3));
        // Other channels' items still read y and gy while this one writes gx: no output may share their memory.
        NotSame(op, x, "x", gx, "gx");
        if (y is not null)
        {
            Batched(op, y, "y", n, gy.Dim(1), gy.Dim(2), gy.Dim(3));
            NotSame(op, y, "y", gx, "gx");
        }
        if (gSkip is not null)
        {
            Batched(op, gSkip, "gSkip", n, gy.Dim(1), gy.Dim(2), gy.Dim(3));
            foreach (var (t, name) in new[] { (y, "y"), (gy, "gy"), (x, "x"), (gx, "gx") })
            {
                if (t is not null) NotSame(op, t, name, gSkip, "gSkip");
            }
        }
        foreach (var (t, name) in new[] { (gamma, "gamma"), (savedMean, "savedMean"), (savedInvStd, "savedInvStd"), (gGamma, "gGamma"), (gBeta, "gBeta") })
        {
            Exact(op, t, name, channels);
        }
        int plane = gy.Dim(2) * gy.Dim(3);
        if (StatisticsReducer is { } reducer)
        {
            // The global sums need the whole permuted gradient before any process can apply them: it goes through a scratch tensor.
            var m = backend.ScratchLike(gy);
            ActivationBackwardShuffle(y ?? gy, gy, m, gSkip, n, groups, activation);
            SynchronizedBatchNormBackward(reducer, x, m, gamma, savedMean, savedInvStd, gx, gGamma, gBeta, n);
            return;
        }
        backend.Run(new BatchNorm.ActivationShuffleBackward(n, channels, plane, groups, activation, y, gy, gSkip, x, gamma, savedMean, savedInvStd, gx, gGamma, gBeta));
    }
}

/// <summary>
/// Batch normalisation (BN_l after each group convolution W_l, paper eq. 4): the checks in <see cref="Ops"/>, one
/// algorithm for the statistics and the backward coefficients (<see cref="BatchNormStatistics"/>), the host loops
/// (BatchNorm.Host.cs) and the ILGPU kernels (BatchNorm.Device.cs), and the steps below that pick between them.
/// </summary>
internal static partial class BatchNorm
{
    /// <summary>The batch statistics alone: savedMean, savedInvStd and the running statistics.</summary>
    public readonly record struct Statistics(int N, int Channels, int Plane, float Momentum, float Epsilon,
        Tensor X, Tensor SavedMean, Tensor SavedInvStd, Tensor RunningMean, Tensor RunningVar) : IKernel
    {
        public void OnHost() => TrainingStatistics(N, Channels, Plane, Momentum, Epsilon, new Buf(X), new Buf(SavedMean), new Buf(SavedInvStd), new Buf(RunningMean), new Buf(RunningVar));

        public void OnDevice(Backend backend)
        {
            var kernel = backend.Load(static a => a.LoadStreamKernel<int, int, int, float, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(StatisticsGrouped));
            kernel(backend.Groups(Channels), Channels, N, Plane, Momentum, Epsilon, X.Flat, SavedMean.Flat, SavedInvStd.Flat, RunningMean.Flat, RunningVar.Flat);
        }
    }

    /// <summary>The statistics, then y = BN(x) with them, through the epilogue (P_l, the skip, the activation) when it has one.</summary>
    public readonly record struct Training(int N, int Channels, int Plane, float Momentum, float Epsilon,
        Tensor X, Tensor Gamma, Tensor Beta, Tensor Y, Tensor SavedMean, Tensor SavedInvStd, Tensor RunningMean, Tensor RunningVar, Ops.Epilogue Epilogue) : IKernel
    {
        public void OnHost() => BatchNorm.TrainingOnHost(N, Channels, Plane, Momentum, Epsilon, new Buf(X), new Buf(Gamma), new Buf(Beta), new Buf(Y),
            new Buf(SavedMean), new Buf(SavedInvStd), new Buf(RunningMean), new Buf(RunningVar),
            Epilogue.Groups, Epilogue.Skip is null ? null : new Buf(Epilogue.Skip), (int)Epilogue.Activation);

        public void OnDevice(Backend backend)
        {
            new Statistics(N, Channels, Plane, Momentum, Epsilon, X, SavedMean, SavedInvStd, RunningMean, RunningVar).OnDevice(backend);
            NormalizeOnDevice(backend, N, Channels, Plane, X, Gamma, Beta, SavedMean, SavedInvStd, Y, Epilogue);
        }
    }

    /// <summary>The device's normalising pass with the batch statistics in savedMean / savedInvStd, and the epilogue.</summary>
    public static void NormalizeOnDevice(Backend backend, int n, int channels, int plane, Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd,
        Tensor y, Ops.Epilogue epilogue)
    {
        int total = n * channels * plane;
        if (epilogue.IsNone)
        {
            var normalize = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(NormalizeKernel));
            normalize(backend.Threads(total), total, backend.Threads(total), channels, plane, x.Flat, gamma.Flat, beta.Flat, savedMean.Flat, savedInvStd.Flat, y.Flat);
            return;
        }
        var fused = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Fused.ShuffleActivation.NormalizeKernel));
        fused(backend.Threads(total), total, backend.Threads(total), channels, epilogue.Groups, plane, (int)epilogue.Activation, epilogue.Skip is null ? 0 : 1,
            x.Flat, gamma.Flat, beta.Flat, savedMean.Flat, savedInvStd.Flat, (epilogue.Skip ?? x).Flat, y.Flat);
    }

    /// <summary>y = BN(x) with the running statistics.</summary>
    public readonly record struct Inference(int N, int Channels, int Plane, float Epsilon, Tensor X, Tensor Gamma, Tensor Beta, Tensor RunningMean, Tensor RunningVar, Tensor Y) : IKernel
    {
        public void OnHost() => InferenceOnHost(N, Channels, Plane, Epsilon, new Buf(X), new Buf(Gamma), new Buf(Beta), new Buf(RunningMean), new Buf(RunningVar), new Buf(Y));

        public void OnDevice(Backend backend)
        {
            int total = N * Channels * Plane;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(InferenceKernel));
            kernel(backend.Threads(total), total, backend.Threads(total), Channels, Plane, Epsilon, X.Flat, Gamma.Flat, Beta.Flat, RunningMean.Flat, RunningVar.Flat, Y.Flat);
        }
    }

    /// <summary>gx, gGamma and gBeta with the batch statistics the forward saved.</summary>
    public readonly record struct Backward(int N, int Channels, int Plane, Tensor X, Tensor Gy, Tensor Gamma, Tensor SavedMean, Tensor SavedInvStd,
        Tensor Gx, Tensor GGamma, Tensor GBeta) : IKernel
    {
        public void OnHost() => BackwardOnHost(N, Channels, Plane, new Buf(X), new Buf(Gy), new Buf(Gamma), new Buf(SavedMean), new Buf(SavedInvStd),
            new Buf(Gx), new Buf(GGamma), new Buf(GBeta));

        public void OnDevice(Backend backend)
        {
            var reduce = backend.Load(static a => a.LoadStreamKernel<int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardReduceGrouped));
            reduce(backend.Groups(Channels), Channels, N, Plane, X.Flat, Gy.Flat, SavedMean.Flat, SavedInvStd.Flat, GGamma.Flat, GBeta.Flat);
            BackwardInput(backend, N, Channels, Plane, (float)N * Plane, X, Gy, Gamma, SavedMean, SavedInvStd, GGamma, GBeta, Gx);
        }
    }

    /// <summary>
    /// The device's gx = A gy + B x + C once gGamma and gBeta hold the sums over <paramref name="count"/> values per channel
    /// (also synchronised BN's last step, with the global batch's count).
    /// </summary>
    public static void BackwardInput(Backend backend, int n, int channels, int plane, float count, Tensor x, Tensor gy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
        Tensor gGamma, Tensor gBeta, Tensor gx)
    {
        int total = n * channels * plane;
        var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardInputKernel));
        kernel(backend.Threads(total), total, backend.Threads(total), channels, plane, count, x.Flat, gy.Flat, gamma.Flat, savedMean.Flat, savedInvStd.Flat, gGamma.Flat, gBeta.Flat, gx.Flat);
    }

    /// <summary>act', the skip's share, P_l^-1 and BN_l's backward in one op (<see cref="Ops.ActivationShuffleBatchNormBackward"/>).</summary>
    public readonly record struct ActivationShuffleBackward(int N, int Channels, int Plane, int Groups, Design.Activation Activation, Tensor? Y, Tensor Gy, Tensor? GSkip,
        Tensor X, Tensor Gamma, Tensor SavedMean, Tensor SavedInvStd, Tensor Gx, Tensor GGamma, Tensor GBeta) : IKernel
    {
        public void OnHost() => ActivationShuffleBackwardOnHost(N, Channels, Plane, Groups, (int)Activation, new Buf(Y ?? Gy), new Buf(Gy), GSkip is null ? null : new Buf(GSkip),
            new Buf(X), new Buf(Gamma), new Buf(SavedMean), new Buf(SavedInvStd), new Buf(Gx), new Buf(GGamma), new Buf(GBeta));

        public void OnDevice(Backend backend)
        {
            var y = Y ?? Gy;
            var reduce = backend.Load(static a => a.LoadStreamKernel<int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Fused.ShuffleActivation.BatchNormBackwardReduceGroupedKernel));
            reduce(backend.Groups(Channels), Channels, Groups, N, Plane, (int)Activation, y.Flat, Gy.Flat, X.Flat, SavedMean.Flat, SavedInvStd.Flat, GGamma.Flat, GBeta.Flat);
            int total = N * Channels * Plane;
            var input = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, Fused.ShuffleActivation.BackwardShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Fused.ShuffleActivation.BatchNormBackwardInputKernel));
            var shape = new Fused.ShuffleActivation.BackwardShape(total, backend.Threads(total), Channels, Groups, Plane, (int)Activation, GSkip is null ? 0 : 1, (float)N * Plane);
            input(backend.Threads(total), shape, y.Flat, Gy.Flat, X.Flat, Gamma.Flat, SavedMean.Flat, SavedInvStd.Flat, GGamma.Flat, GBeta.Flat, Gx.Flat, (GSkip ?? Gx).Flat);
        }
    }

    /// <summary>
    /// Synchronised BN's normalising pass, once the global batch's statistics are known (<paramref name="Means"/> and
    /// <paramref name="InvStd"/> on the host, the same values in savedMean and savedInvStd), through the epilogue.
    /// </summary>
    public readonly record struct SynchronizedNormalize(int N, int Channels, int Plane, Tensor X, Tensor Gamma, Tensor Beta, Tensor SavedMean, Tensor SavedInvStd,
        Tensor Y, Ops.Epilogue Epilogue, float[] Means, float[] InvStd) : IKernel
    {
        public void OnHost()
        {
            var (g, b, means, invStd) = (Gamma.HostSpan.ToArray(), Beta.HostSpan.ToArray(), Means, InvStd);
            var (channels, plane, groups, activation) = (Channels, Plane, Epilogue.Groups, (int)Epilogue.Activation);
            var skip = Epilogue.Skip is null ? (Buf?)null : new Buf(Epilogue.Skip);
            var (xs, ys) = (new Buf(X), new Buf(Y));
            Parallel.For(0, N * channels, item =>
            {
                int c = item % channels, s = item / channels;
                var (scale, shift) = BatchNormStatistics.ScaleShift(g[c], b[c], means[c], invStd[c]);
                int target = (s * channels + Interleave.Destination(c, channels, groups)) * plane;
                Fused.ShuffleActivation.ScaleShiftAddActivate(xs.Slice(item * plane, plane), scale, shift,
                    skip is { } add ? add.Slice(target, plane) : default, skip is not null, ys.Slice(target, plane), activation);
            });
        }

        public void OnDevice(Backend backend) => NormalizeOnDevice(backend, N, Channels, Plane, X, Gamma, Beta, SavedMean, SavedInvStd, Y, Epilogue);
    }

    /// <summary>
    /// Synchronised BN's input gradient from the global sums (<paramref name="Sums"/>: gBeta's then gGamma's per channel,
    /// over <paramref name="Count"/> values), gx = A gy + B x + C (<see cref="BatchNormStatistics.Backward"/>).
    /// </summary>
    public readonly record struct SynchronizedBackwardInput(int N, int Channels, int Plane, double Count, double[] Sums, float[] Mean, float[] InvStd,
        Tensor X, Tensor Gy, Tensor Gamma, Tensor SavedMean, Tensor SavedInvStd, Tensor Gx) : IKernel
    {
        public void OnHost()
        {
            var (gm, sums, mean, invStd, m, channels, plane) = (Gamma.HostSpan.ToArray(), Sums, Mean, InvStd, Count, Channels, Plane);
            var (gy, x, gx) = (new Buf(Gy), new Buf(X), new Buf(Gx));
            Parallel.For(0, N * channels, item =>
            {
                int c = item % channels;
                var k = BatchNormStatistics.Backward(m, gm[c], mean[c], invStd[c], sums[c], sums[channels + c]);
                InputGradient(k, gy.Slice(item * plane, plane), x.Slice(item * plane, plane), gx.Slice(item * plane, plane));
            });
        }

        public void OnDevice(Backend backend)
        {
            // The global sums go to the device as gGamma and gBeta would lie there after the local reduction.
            var gBeta = backend.ScratchVector(Channels, 0);
            var gGamma = backend.ScratchVector(Channels, 1);
            gBeta.CopyFrom(Sums.AsSpan(0, Channels).ToArray().Select(v => (float)v).ToArray());
            gGamma.CopyFrom(Sums.AsSpan(Channels, Channels).ToArray().Select(v => (float)v).ToArray());
            BackwardInput(backend, N, Channels, Plane, (float)Count, X, Gy, Gamma, SavedMean, SavedInvStd, gGamma, gBeta, Gx);
        }
    }
}
