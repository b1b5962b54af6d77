using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using Igcv2.Design;

namespace Igcv2.Kernels.Fused;

/// <summary>
/// The end of a training step in one pass each way. Forward, <c>P_l + skip + activation</c>:
/// y[:, o] = act(x[:, src(o)] + skip[:, o]), where src is the interleaving permutation's gather
/// (out[j*G + g] = in[g*(C/G) + j], paper eq. 5's P_l) — three passes (ChannelShuffle, Add, Relu) in one.
/// Backward, <c>activation' + P_l^-1</c>: m = gy * act'(y), gSkip = m, gx[:, o] = m[:, src'(o)] with the
/// inverse permutation's groups (C/G) — ReluBackward, the skip's Copy and the inverse ChannelShuffle in one.
/// The scalar math is shared by the host loop and the ILGPU kernel, so both agree bit for bit; the unfused
/// ops stay as the oracle the tests hold these against.
/// </summary>
internal static class ShuffleActivation
{
    /// <summary>y[:, o] = act(x[:, src(o)] + skip[:, o]); <see cref="Skip"/> null: no add.</summary>
    public readonly record struct Forward(int N, int Channels, int Groups, int Plane, Activation Activation, Tensor X, Tensor? Skip, Tensor Y) : IKernel
    {
        public void OnHost()
        {
            var (x, skip, y, channels, groups, plane, activation) = (new HostKernels.Buf(X), Skip is null ? (HostKernels.Buf?)null : new HostKernels.Buf(Skip), new HostKernels.Buf(Y), Channels, Groups, Plane, (int)Activation);
            HostKernels.ForPlanes(N * channels, plane, item =>
            {
                int o = item % channels, s = item / channels;
                var source = x.Slice((s * channels + Interleave.Source(o, channels, groups)) * plane, plane);
                var target = y.Slice(item * plane, plane);
                if (skip is { } add) AddActivate(source, add.Slice(item * plane, plane), target, activation);
                else Activations.Apply(source, target, (Activation)activation);
            });
        }

        public void OnDevice(Backend backend)
        {
            int total = N * Channels * Plane;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel));
            kernel(backend.Threads(total), total, backend.Threads(total), Channels, Groups, Plane, (int)Activation, Skip is null ? 0 : 1, X.Flat, (Skip ?? X).Flat, Y.Flat);
        }
    }

    /// <summary>m = gy act'(y); gSkip = m (when not null); gx[:, o] = m[:, src(o)].</summary>
    public readonly record struct Backward(int N, int Channels, int Groups, int Plane, Activation Activation, Tensor Y, Tensor Gy, Tensor Gx, Tensor? GSkip) : IKernel
    {
        public void OnHost()
        {
            var (y, gy, gx, gSkip, channels, groups, plane, activation) = (new HostKernels.Buf(Y), new HostKernels.Buf(Gy), new HostKernels.Buf(Gx),
                GSkip is null ? (HostKernels.Buf?)null : new HostKernels.Buf(GSkip), Channels, Groups, Plane, Activation);
            HostKernels.ForPlanes(N * channels, plane, item =>
            {
                int o = item % channels, s = item / channels;
                var from = (s * channels + Interleave.Source(o, channels, groups)) * plane;
                Activations.Pass(y.Slice(from, plane), gy.Slice(from, plane), gx.Slice(item * plane, plane), activation);
                // The skip's share is m itself (no permutation), for the planes this item owns.
                if (gSkip is { } share) Activations.Pass(y.Slice(item * plane, plane), gy.Slice(item * plane, plane), share.Slice(item * plane, plane), activation);
            });
        }

        public void OnDevice(Backend backend)
        {
            int total = N * Channels * Plane;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel));
            kernel(backend.Threads(total), total, backend.Threads(total), Channels, Groups, Plane, (int)Activation, GSkip is null ? 0 : 1, Y.Flat, Gy.Flat, Gx.Flat, (GSkip ?? Gx).Flat);
        }
    }

    // The host loops: Vector256 bodies and scalar tails over the same Activations.Apply / Activations.Pass.

    /// <summary>
    /// y = act(x * scale + shift + skip), BN's normalisation (as BatchNorm.ScaleShift rounds it) and then the
    /// skip and the activation as <see cref="Forward"/> applies them, so the fused BN store matches the two
    /// passes bit for bit. <paramref name="skip"/> is read only when <paramref name="hasSkip"/>.
    /// </summary>
    public static void ScaleShiftAddActivate(ReadOnlySpan<float> x, float scale, float shift, ReadOnlySpan<float> skip, bool hasSkip, Span<float> y, int activation)
    {
        var p = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(scale);
            var b = Vector256.Create(shift);
            for (; p + 8 <= x.Length; p += 8)
            {
                var v = Vector256.Create(x.Slice(p, 8)) * a + b;
                if (hasSkip) v += Vector256.Create(skip.Slice(p, 8));
                Activations.Apply(v, (Activation)activation).CopyTo(y.Slice(p, 8));
            }
        }
        for (; p < x.Length; p++)
        {
            float v = x[p] * scale + shift;
            if (hasSkip) v += skip[p];
            y[p] = Activations.Apply(v, (Activation)activation);
        }
    }

    private static void AddActivate(ReadOnlySpan<float> x, ReadOnlySpan<float> skip, Span<float> y, int activation)
    {
        var p = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; p + 8 <= x.Length; p += 8) Activations.Apply(Vector256.Create(x.Slice(p, 8)) + Vector256.Create(skip.Slice(p, 8)), (Activation)activation).CopyTo(y.Slice(p, 8));
        }
        for (; p < x.Length; p++) y[p] = Activations.Apply(x[p] + skip[p], (Activation)activation);
    }

    [DeviceKernel]
    public static void ForwardKernel(Index1D index, int total, int stride, int channels, int groups, int plane, int activation, int hasSkip,
        ArrayView<float> x, ArrayView<float> skip, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int p = i % plane, t = i / plane, o = t % channels, s = t / channels;
            float v = x[(s * channels + Interleave.Source(o, channels, groups)) * plane + p];
            if (hasSkip != 0) v += skip[i];
            y[i] = Activations.Apply(v, (Activation)activation);
        }
    }

    /// <summary>
    /// The device's fused BN store: y[:, o] = act(BN(x)[:, src(o)] + skip[:, o]) with the batch statistics, each
    /// term rounded as BatchNorm.NormalizeKernel and <see cref="ForwardKernel"/> round them.
    /// </summary>
    [DeviceKernel]
    public static void NormalizeKernel(Index1D index, int total, int stride, int channels, int groups, int plane, int activation, int hasSkip,
        ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> skip, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int p = i % plane, t = i / plane, o = t % channels, s = t / channels;
            int c = Interleave.Source(o, channels, groups);
            float scale = gamma[c] * invStd[c];
            float v = x[(s * channels + c) * plane + p] * scale + (beta[c] - mean[c] * scale);
            if (hasSkip != 0) v += skip[i];
            y[i] = Activations.Apply(v, (Activation)activation);
        }
    }

    [DeviceKernel]
    public static void BackwardKernel(Index1D index, int total, int stride, int channels, int groups, int plane, int activation, int hasSkip,
        ArrayView<float> y, ArrayView<float> gy, ArrayView<float> gx, ArrayView<float> gSkip)
    {
        for (int i = index; i < total; i += stride)
        {
            int p = i % plane, t = i / plane, o = t % channels, s = t / channels;
            int from = (s * channels + Interleave.Source(o, channels, groups)) * plane + p;
            gx[i] = Activations.Pass(y[from], gy[from], (Activation)activation);
            if (hasSkip != 0) gSkip[i] = Activations.Pass(y[i], gy[i], (Activation)activation);
        }
    }

    /// <summary>m = gy act'(y) at element i; with no activation y is not read (it may hold anything).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Gradient(ArrayView<float> y, ArrayView<float> gy, int i, int activation) =>
        activation == (int)Activation.None ? gy[i] : Activations.Pass(y[i], gy[i], (Activation)activation);

    /// <summary>The scalars of <see cref="BatchNormBackwardInputKernel"/>: one struct, as ILGPU kernels take at most 15 parameters.</summary>
    public readonly record struct BackwardShape(int Total, int Stride, int Channels, int Groups, int Plane, int Activation, int HasSkip, float Count);

    /// <summary>
    /// The device's act' + P_l^-1 + BN_l backward, its first kernel: per BN channel o (one group each) gBeta = sum g and
    /// gGamma = sum g (x - mean) invStd over g = gy[:, src(o)] act'(y[:, src(o)]), computed where it is read, as
    /// BatchNorm.BackwardReduceGrouped sums its stored gradient.
    /// </summary>
    [DeviceKernel]
    public static void BatchNormBackwardReduceGroupedKernel(int channels, int groups, int n, int plane, int activation,
        ArrayView<float> y, ArrayView<float> gy, ArrayView<float> x, ArrayView<float> savedMean, ArrayView<float> savedInvStd,
        ArrayView<float> gGamma, ArrayView<float> gBeta)
    {
        int count = n * plane;
        for (int o = Grid.IdxX; o < channels; o += Grid.DimX)
        {
            int from = Interleave.Source(o, channels, groups);
            float mean = savedMean[o];
            double sumGy = 0.0;
            double sumGyXc = 0.0;
            for (int r = Group.IdxX; r < count; r += Group.DimX)
            {
                int s = r / plane, p = r % plane;
                int source = (s * channels + from) * plane + p;
                float g = Gradient(y, gy, source, activation);
                sumGy += g;
                sumGyXc += g * (x[(s * channels + o) * plane + p] - mean);
            }
            BatchNorm.FinishBackwardSums(o, sumGy, sumGyXc, savedInvStd, gGamma, gBeta);
        }
    }

    /// <summary>
    /// Its second kernel: gx = A g + B x + C with g recomputed from y and gy (BatchNormStatistics.Backward, as
    /// BatchNorm.BackwardInputKernel), and the skip's share gSkip = gy act'(y), unpermuted, where g was read.
    /// </summary>
    [DeviceKernel]
    public static void BatchNormBackwardInputKernel(Index1D index, BackwardShape shape,
        ArrayView<float> y, ArrayView<float> gy, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> savedMean, ArrayView<float> savedInvStd,
        ArrayView<float> gGamma, ArrayView<float> gBeta, ArrayView<float> gx, ArrayView<float> gSkip)
    {
        int channels = shape.Channels, plane = shape.Plane;
        for (int i = index; i < shape.Total; i += shape.Stride)
        {
            int p = i % plane, t = i / plane, o = t % channels, s = t / channels;
            int source = (s * channels + Interleave.Source(o, channels, shape.Groups)) * plane + p;
            float g = Gradient(y, gy, source, shape.Activation);
            var k = BatchNormStatistics.Backward(shape.Count, gamma[o], savedMean[o], savedInvStd[o], gBeta[o], gGamma[o]);
            gx[i] = k.A * g + k.B * x[i] + k.C;
            // The skip's share is g itself, unpermuted: every element is exactly one thread's source.
            if (shape.HasSkip != 0) gSkip[source] = g;
        }
    }
}
