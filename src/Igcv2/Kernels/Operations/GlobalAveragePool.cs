using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>x [N, C, H, W] -> y [N, C]: the mean over each plane.</summary>
    public void GlobalAveragePool(Tensor x, Tensor y, int n)
    {
        using var timing = Time(nameof(GlobalAveragePool), x);
        const string op = nameof(GlobalAveragePool);
        Image(op, x, "x", n);
        Batched(op, y, "y", n, x.Dim(1));
        backend.Run(new GlobalAveragePool.Forward(n * x.Dim(1), x.Dim(2) * x.Dim(3), x, y));
    }

    /// <summary>gy [N, C] -> gx [N, C, H, W]: each plane receives gy / (H W).</summary>
    public void GlobalAveragePoolBackward(Tensor gy, Tensor gx, int n)
    {
        using var timing = Time(nameof(GlobalAveragePoolBackward), gx);
        const string op = nameof(GlobalAveragePoolBackward);
        Image(op, gx, "gx", n);
        Batched(op, gy, "gy", n, gx.Dim(1));
        backend.Run(new GlobalAveragePool.Backward(n * gx.Dim(1), gx.Dim(2) * gx.Dim(3), gy, gx));
    }
}

/// <summary>
/// The head's pooling (Table 1's "global average pool"): each (sample, channel) plane to its mean, and back. Both
/// bodies take the mean as a double sum divided by the plane's size, and the gradient as gy / size in float.
/// </summary>
internal static class GlobalAveragePool
{
    /// <summary>The sum of a plane in double (the host's lanes, then its tail).</summary>
    public static double Sum(ReadOnlySpan<float> plane)
    {
        int i = 0;
        var low = Vector<double>.Zero;
        var high = Vector<double>.Zero;
        for (; i <= plane.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(plane.Slice(i)), out var l, out var h);
            low += l;
            high += h;
        }
        double sum = Vector.Sum(low + high);
        for (; i < plane.Length; i++) sum += plane[i];
        return sum;
    }

    /// <summary>y[i] = mean of plane i, for <see cref="Planes"/> planes of <see cref="Plane"/> values.</summary>
    public readonly record struct Forward(int Planes, int Plane, Tensor X, Tensor Y) : IKernel
    {
        public void OnHost()
        {
            var (x, y, plane) = (new Buf(X), new Buf(Y), Plane);
            HostKernels.ForPlanes(Planes, plane, item => y.Span[item] = (float)(Sum(x.Slice(item * plane, plane)) / plane));
        }

        public void OnDevice(Backend backend)
        {
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(ForwardKernel));
            kernel(backend.Threads(Planes), Planes, backend.Threads(Planes), Plane, X.Flat, Y.Flat);
        }
    }

    /// <summary>Every value of plane i receives gy[i] / plane.</summary>
    public readonly record struct Backward(int Planes, int Plane, Tensor Gy, Tensor Gx) : IKernel
    {
        public void OnHost()
        {
            var (gy, gx, plane) = (new Buf(Gy), new Buf(Gx), Plane);
            HostKernels.ForPlanes(Planes, plane, item => gx.Slice(item * plane, plane).Fill(gy.Span[item] / plane));
        }

        public void OnDevice(Backend backend)
        {
            int total = Planes * Plane;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(BackwardKernel));
            kernel(backend.Threads(total), total, backend.Threads(total), Plane, Gy.Flat, Gx.Flat);
        }
    }

    // One thread per (sample, channel) plane.
    [DeviceKernel]
    public static void ForwardKernel(Index1D index, int total, int stride, int plane, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int b = i * plane;
            double sum = 0.0;
            for (int p = 0; p < plane; p++) sum += x[b + p];
            y[i] = (float)(sum / plane);
        }
    }

    [DeviceKernel]
    public static void BackwardKernel(Index1D index, int total, int stride, int plane, ArrayView<float> gy, ArrayView<float> gx)
    {
        for (int i = index; i < total; i += stride) gx[i] = gy[i / plane] / plane;
    }
}
