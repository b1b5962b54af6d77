using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>
    /// The interleaving permutation over <paramref name="groups"/> branches: y[:, j*G + g] = x[:, g*(C/G) + j].
    /// Its backward is ChannelShuffle(gy, gx, n, C / groups).
    /// </summary>
    public void ChannelShuffle(Tensor x, Tensor y, int n, int groups)
    {
        using var timing = Time(nameof(ChannelShuffle), x);
        const string op = nameof(ChannelShuffle);
        Image(op, x, "x", n);
        int channels = x.Dim(1);
        if (groups <= 0 || channels % groups != 0)
        {
            throw new ArgumentException($"{op}: groups = {groups} must be positive and divide the {channels} channels of x {x.ShapeText}.", nameof(groups));
        }
        Batched(op, y, "y", n, x.Dim(1), x.Dim(2), x.Dim(3));
        NotSame(op, x, "x", y, "y");
        backend.Run(new Interleave.Shuffle(n, channels, groups, x.Dim(2) * x.Dim(3), x, y));
    }
}

/// <summary>
/// The paper's interleaving permutation P_l (eq. 5), over G branches of C/G channels: output channel j*G + g reads
/// input channel g*(C/G) + j. Every kernel that permutes channels (this op, the fused BN stores and backwards, the
/// normalised convolution inputs) takes its channel index from <see cref="Source"/> or <see cref="Destination"/>.
/// </summary>
internal static class Interleave
{
    /// <summary>The channel P_l (with <paramref name="groups"/> branches) reads output channel <paramref name="o"/> from.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Source(int o, int channels, int groups) => (o % groups) * (channels / groups) + o / groups;

    /// <summary>The output channel P_l moves input channel <paramref name="c"/> to: the inverse of <see cref="Source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Destination(int c, int channels, int groups) => Source(c, channels, channels / groups);

    /// <summary>y = P_l x: whole planes copied from their source channel.</summary>
    public readonly record struct Shuffle(int N, int Channels, int Groups, int Plane, Tensor X, Tensor Y) : IKernel
    {
        public void OnHost()
        {
            var (x, y, channels, groups, plane) = (new Buf(X), new Buf(Y), Channels, Groups, Plane);
            HostKernels.ForPlanes(N * channels, plane, item =>
            {
                int o = item % channels, s = item / channels;
                x.Slice((s * channels + Source(o, channels, groups)) * plane, plane).CopyTo(y.Slice(item * plane, plane));
            });
        }

        public void OnDevice(Backend backend)
        {
            int total = N * Channels * Plane;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, ArrayView<float>, ArrayView<float>>(ShuffleKernel));
            kernel(backend.Threads(total), total, backend.Threads(total), Channels, Groups, Plane, X.Flat, Y.Flat);
        }
    }

    [DeviceKernel]
    public static void ShuffleKernel(Index1D index, int total, int stride, int channels, int groups, int plane, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int p = i % plane, t = i / plane, o = t % channels, s = t / channels;
            y[i] = x[(s * channels + Source(o, channels, groups)) * plane + p];
        }
    }
}
