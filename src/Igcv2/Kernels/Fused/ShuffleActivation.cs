using System.Runtime.CompilerServices;
using ILGPU;
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
    /// <summary>The channel P_l (with <paramref name="groups"/> branches) reads output channel <paramref name="o"/> from.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Source(int o, int channels, int groups) => (o % groups) * (channels / groups) + o / groups;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activate(float v, int activation) => activation switch
    {
        (int)Activation.Relu => v > 0f ? v : 0f,
        (int)Activation.Relu6 => v > 0f ? (v < 6f ? v : 6f) : 0f,
        _ => v,
    };

    /// <summary>act'(y) from the activation's output, as ReluBackward and Relu6Backward read it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Pass(float y, float gy, int activation) => activation switch
    {
        (int)Activation.Relu => y > 0f ? gy : 0f,
        (int)Activation.Relu6 => y > 0f && y < 6f ? gy : 0f,
        _ => gy,
    };

    public static void ForwardOnHost(int n, int channels, int groups, int plane, int activation, HostKernels.Buf x, HostKernels.Buf? skip, HostKernels.Buf y) =>
        HostKernels.ForPlanes(n * channels, plane, item =>
        {
            int o = item % channels, s = item / channels;
            var source = x.Slice((s * channels + Source(o, channels, groups)) * plane, plane);
            var target = y.Slice(item * plane, plane);
            if (skip is { } add)
            {
                var extra = add.Slice(item * plane, plane);
                for (var p = 0; p < plane; p++) target[p] = Activate(source[p] + extra[p], activation);
            }
            else
            {
                for (var p = 0; p < plane; p++) target[p] = Activate(source[p], activation);
            }
        });

    public static void BackwardOnHost(int n, int channels, int groups, int plane, int activation, HostKernels.Buf y, HostKernels.Buf gy, HostKernels.Buf gx, HostKernels.Buf? gSkip) =>
        HostKernels.ForPlanes(n * channels, plane, item =>
        {
            int o = item % channels, s = item / channels;
            var from = (s * channels + Source(o, channels, groups)) * plane;
            ReadOnlySpan<float> ys = y.Slice(from, plane), gys = gy.Slice(from, plane);
            var target = gx.Slice(item * plane, plane);
            for (var p = 0; p < plane; p++) target[p] = Pass(ys[p], gys[p], activation);
            if (gSkip is { } share)
            {
                // The skip's share is m itself (no permutation): written for the planes this item owns.
                ReadOnlySpan<float> own = y.Slice(item * plane, plane), ownGy = gy.Slice(item * plane, plane);
                var skipTarget = share.Slice(item * plane, plane);
                for (var p = 0; p < plane; p++) skipTarget[p] = Pass(own[p], ownGy[p], activation);
            }
        });

    public static void ForwardKernel(Index1D index, int total, int stride, int channels, int groups, int plane, int activation, int hasSkip,
        ArrayView<float> x, ArrayView<float> skip, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int p = i % plane, t = i / plane, o = t % channels, s = t / channels;
            float v = x[(s * channels + Source(o, channels, groups)) * plane + p];
            if (hasSkip != 0) v += skip[i];
            y[i] = Activate(v, activation);
        }
    }

    public static void BackwardKernel(Index1D index, int total, int stride, int channels, int groups, int plane, int activation, int hasSkip,
        ArrayView<float> y, ArrayView<float> gy, ArrayView<float> gx, ArrayView<float> gSkip)
    {
        for (int i = index; i < total; i += stride)
        {
            int p = i % plane, t = i / plane, o = t % channels, s = t / channels;
            int from = (s * channels + Source(o, channels, groups)) * plane + p;
            gx[i] = Pass(y[from], gy[from], activation);
            if (hasSkip != 0) gSkip[i] = Pass(y[i], gy[i], activation);
        }
    }
}
