using System.Numerics;
using System.Runtime.InteropServices;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

// BN_l's host loops: one worker owns a channel (its statistics, its sums and its gradient), Vector<float> lanes within a
// plane, doubles across planes.
internal static unsafe partial class BatchNorm
{
    /// <summary>s1 += sum (a[i] - shift), s2 += sum (a[i] - shift)^2, in one pass (float lanes per call, double across calls).</summary>
    private static void ShiftedSums(ReadOnlySpan<float> a, float shift, ref double s1, ref double s2)
    {
        int i = 0;
        float sum = 0f, squares = 0f;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            Vector<float> acc = default, acc2 = default;
            var vs = new Vector<float>(shift);
            ref float ra = ref MemoryMarshal.GetReference(a);
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var d = Vector.LoadUnsafe(ref ra, (nuint)i) - vs;
                acc += d;
                acc2 += d * d;
            }
            sum = Vector.Sum(acc);
            squares = Vector.Sum(acc2);
        }
        for (; i < a.Length; i++)
        {
            float d = a[i] - shift;
            sum += d;
            squares += d * d;
        }
        s1 += sum;
        s2 += squares;
    }

    /// <summary>sumGy += sum gy[i], sumGyXc += sum gy[i] (x[i] - mean), in one pass.</summary>
    private static void CenteredSums(ReadOnlySpan<float> gy, ReadOnlySpan<float> x, float mean, ref double sumGy, ref double sumGyXc)
    {
        int i = 0;
        float g = 0f, gx = 0f;
        if (Vector.IsHardwareAccelerated && gy.Length >= Vector<float>.Count)
        {
            Vector<float> acc = default, acc2 = default;
            var vm = new Vector<float>(mean);
            ref float rg = ref MemoryMarshal.GetReference(gy);
            ref float rx = ref MemoryMarshal.GetReference(x);
            for (; i <= gy.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref rg, (nuint)i);
                acc += v;
                acc2 += v * (Vector.LoadUnsafe(ref rx, (nuint)i) - vm);
            }
            g = Vector.Sum(acc);
            gx = Vector.Sum(acc2);
        }
        for (; i < gy.Length; i++)
        {
            g += gy[i];
            gx += gy[i] * (x[i] - mean);
        }
        sumGy += g;
        sumGyXc += gx;
    }

    /// <summary>y = a * x + b, element-wise (x and y may be the same span).</summary>
    internal static void ScaleShift(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            var vb = new Vector<float>(b);
            ref float rx = ref MemoryMarshal.GetReference(x);
            ref float ry = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref rx, (nuint)i) * va + vb).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = x[i] * a + b;
    }

    /// <summary>
    /// BN with batch statistics; y's plane for channel c is the one P_l (<paramref name="groups"/> branches; 1: the
    /// identity) moves c to, where the skip plane is added and the activation applied in the same store.
    /// </summary>
    public static void TrainingOnHost(int n, int channels, int plane, float momentum, float epsilon,
        Buf x, Buf gamma, Buf beta, Buf y, Buf savedMean, Buf savedInvStd, Buf runningMean, Buf runningVar,
        int groups, Buf? skip, int activation)
    {
        bool plain = skip is null && activation == 0;
        // One pass for the statistics, one to normalise (BatchNormStatistics: the sums around the channel's first value).
        HostKernels.ForPlanes(channels, (long)n * plane * 2, c =>
        {
            var moments = ChannelStatistics(c, n, channels, plane, momentum, epsilon, x, savedMean, savedInvStd, runningMean, runningVar);
            var (scale, shift) = BatchNormStatistics.ScaleShift(gamma.Span[c], beta.Span[c], moments.Mean, moments.InvStd);
            int to = Interleave.Destination(c, channels, groups);
            for (int s = 0; s < n; s++)
            {
                var source = x.Slice((s * channels + c) * plane, plane);
                int target = (s * channels + to) * plane;
                if (plain) ScaleShift(source, scale, shift, y.Slice(target, plane));
                else Fused.ShuffleActivation.ScaleShiftAddActivate(source, scale, shift, skip is { } add ? add.Slice(target, plane) : default, skip is not null, y.Slice(target, plane), activation);
            }
        });
    }

    /// <summary>BN's batch statistics alone (no normalising pass): savedMean, savedInvStd and the running statistics, as <see cref="TrainingOnHost"/> writes them.</summary>
    public static void TrainingStatistics(int n, int channels, int plane, float momentum, float epsilon,
        Buf x, Buf savedMean, Buf savedInvStd, Buf runningMean, Buf runningVar) =>
        HostKernels.ForPlanes(channels, (long)n * plane, c => ChannelStatistics(c, n, channels, plane, momentum, epsilon, x, savedMean, savedInvStd, runningMean, runningVar));

    /// <summary>Channel c's one pass of shifted sums (the shift: its first value), finished and stored (BatchNormStatistics).</summary>
    private static BatchNormStatistics.Moments ChannelStatistics(int c, int n, int channels, int plane, float momentum, float epsilon,
        Buf x, Buf savedMean, Buf savedInvStd, Buf runningMean, Buf runningVar)
    {
        var rm = runningMean.Span;
        var rv = runningVar.Span;
        float r = x.Span[c * plane];
        double s1 = 0.0, s2 = 0.0;
        for (int s = 0; s < n; s++) ShiftedSums(x.Slice((s * channels + c) * plane, plane), r, ref s1, ref s2);
        var moments = BatchNormStatistics.Finish((double)n * plane, r, s1, s2, momentum, epsilon, rm[c], rv[c]);
        savedMean.Span[c] = moments.Mean;
        savedInvStd.Span[c] = moments.InvStd;
        rm[c] = moments.RunningMean;
        rv[c] = moments.RunningVar;
        return moments;
    }

    public static void InferenceOnHost(int n, int channels, int plane, float epsilon,
        Buf x, Buf gamma, Buf beta, Buf runningMean, Buf runningVar, Buf y)
    {
        HostKernels.ForPlanes(n * channels, plane, item =>
        {
            int c = item % channels;
            var (scale, shift) = BatchNormStatistics.InferenceScaleShift(gamma.Span[c], beta.Span[c], runningMean.Span[c], runningVar.Span[c], epsilon);
            ScaleShift(x.Slice(item * plane, plane), scale, shift, y.Slice(item * plane, plane));
        });
    }

    public static void BackwardOnHost(int n, int channels, int plane,
        Buf x, Buf gy, Buf gamma, Buf savedMean, Buf savedInvStd, Buf gx, Buf gGamma, Buf gBeta) =>
        HostKernels.ForPlanes(channels, (long)n * plane * 3, c =>
            BatchNormBackwardChannel(c, n, channels, plane, gy.Pointer + (long)c * plane, (long)channels * plane, x, gamma, savedMean, savedInvStd, gx, gGamma, gBeta));

    /// <summary>
    /// act' + P_l^-1 + BN_l's backward (<see cref="Ops.ActivationShuffleBatchNormBackward"/>): per BN channel o, the
    /// gradient m[:, src(o)] = gy * act'(y) is gathered into this thread's scratch (n planes, in cache) and BN_l's
    /// backward reads it from there, so the permuted gradient is never written to memory (with no activation m is gy,
    /// read in place, and y is not read at all). The same numbers, bit for bit, as <see cref="Fused.ShuffleActivation.Backward"/> into a tensor followed by <see cref="BackwardOnHost"/>.
    /// </summary>
    public static void ActivationShuffleBackwardOnHost(int n, int channels, int plane, int groups, int activation, Buf y, Buf gy, Buf? gSkip,
        Buf x, Buf gamma, Buf savedMean, Buf savedInvStd, Buf gx, Buf gGamma, Buf gBeta) =>
        HostKernels.ForPlanes(channels, (long)n * plane * 4, o =>
        {
            int from = Interleave.Source(o, channels, groups);
            if (activation == (int)Design.Activation.None)
            {
                // m is gy itself: BN_l reads its permuted planes where they are (the skip's share: a copy, first, so
                // that BN_l finds them in cache).
                for (int s = 0; s < n && gSkip is { } copy; s++) gy.Slice((s * channels + from) * plane, plane).CopyTo(copy.Slice((s * channels + from) * plane, plane));
                BatchNormBackwardChannel(o, n, channels, plane, gy.Pointer + (long)from * plane, (long)channels * plane, x, gamma, savedMean, savedInvStd, gx, gGamma, gBeta);
                return;
            }
            var scratch = ThreadScratch.For(n * plane);
            fixed (float* m = scratch)
            {
                for (int s = 0; s < n; s++)
                {
                    int source = (s * channels + from) * plane;
                    var planeM = new Span<float>(m + (long)s * plane, plane);
                    Activations.Pass(y.Slice(source, plane), gy.Slice(source, plane), planeM, (Design.Activation)activation);
                    // The skip's share is m itself, unpermuted: this item computed channel src(o)'s (each channel is one item's source).
                    if (gSkip is { } share) planeM.CopyTo(share.Slice(source, plane));
                }
                BatchNormBackwardChannel(o, n, channels, plane, m, plane, x, gamma, savedMean, savedInvStd, gx, gGamma, gBeta);
            }
        });

    /// <summary>
    /// BN_l's backward for channel c: gy's plane of sample s at <paramref name="gyFirst"/> + s <paramref name="gyStride"/>,
    /// x's and gx's in the tensors. Sums G and H (double across planes), then gx = A gy + B x + C (BatchNormStatistics).
    /// </summary>
    private static void BatchNormBackwardChannel(int c, int n, int channels, int plane, float* gyFirst, long gyStride,
        Buf x, Buf gamma, Buf savedMean, Buf savedInvStd, Buf gx, Buf gGamma, Buf gBeta)
    {
        float mean = savedMean.Span[c], invStd = savedInvStd.Span[c];
        double sumGy = 0.0, sumGyXc = 0.0;
        for (int s = 0; s < n; s++)
        {
            CenteredSums(new ReadOnlySpan<float>(gyFirst + s * gyStride, plane), x.Slice((s * channels + c) * plane, plane), mean, ref sumGy, ref sumGyXc);
        }
        double sumGyXhat = sumGyXc * invStd;
        gBeta.Span[c] = (float)sumGy;
        gGamma.Span[c] = (float)sumGyXhat;
        var k = BatchNormStatistics.Backward((double)n * plane, gamma.Span[c], mean, invStd, sumGy, sumGyXhat);
        for (int s = 0; s < n; s++)
        {
            int b = (s * channels + c) * plane;
            InputGradient(k, new ReadOnlySpan<float>(gyFirst + s * gyStride, plane), x.Slice(b, plane), gx.Slice(b, plane));
        }
    }

    /// <summary>gx = A gy + B x + C over one plane (Vector lanes, then the tail, both as the same mul and adds).</summary>
    internal static void InputGradient(BatchNormStatistics.InputGradient k, ReadOnlySpan<float> gy, ReadOnlySpan<float> x, Span<float> gx)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<float>(k.A);
            var vb = new Vector<float>(k.B);
            var vc = new Vector<float>(k.C);
            for (; i <= gy.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (va * new Vector<float>(gy.Slice(i)) + vb * new Vector<float>(x.Slice(i)) + vc).CopyTo(gx.Slice(i));
            }
        }
        for (; i < gy.Length; i++) gx[i] = k.A * gy[i] + k.B * x[i] + k.C;
    }
}
