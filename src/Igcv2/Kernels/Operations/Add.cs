using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>y = a + b (the residual add); y may be a or b.</summary>
    public void Add(Tensor a, Tensor b, Tensor y, int n)
    {
        using var timing = Time(nameof(Add), a);
        int total = SameSamples(nameof(Add), n, (a, "a"), (b, "b"), (y, "y"));
        backend.Run(new AddKernel(total, a, b, y));
    }
}

/// <summary>y = a + b over the first <see cref="Total"/> elements (the skip connection's add, unfused).</summary>
internal readonly record struct AddKernel(int Total, Tensor A, Tensor B, Tensor Y) : IKernel
{
    public void OnHost()
    {
        var (a, b, y) = (new Buf(A), new Buf(B), new Buf(Y));
        HostKernels.ForChunks(Total, (start, count) =>
        {
            var @as = a.Slice(start, count);
            var bs = b.Slice(start, count);
            var ys = y.Slice(start, count);
            int i = 0;
            for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(@as.Slice(i)) + new Vector<float>(bs.Slice(i))).CopyTo(ys.Slice(i));
            }
            for (; i < count; i++) ys[i] = @as[i] + bs[i];
        });
    }

    public void OnDevice(Backend backend)
    {
        var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Kernel));
        kernel(backend.Threads(Total), Total, backend.Threads(Total), A.Flat, B.Flat, Y.Flat);
    }

    [DeviceKernel]
    public static void Kernel(Index1D index, int total, int stride, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride) y[i] = a[i] + b[i];
    }
}
