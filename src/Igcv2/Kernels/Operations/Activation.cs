using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using Igcv2.Design;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>y = max(x, 0); x and y may be the same tensor.</summary>
    public void Relu(Tensor x, Tensor y, int n) => Activate(nameof(Relu), Design.Activation.Relu, x, y, n);

    /// <summary>gx = y &gt; 0 ? gy : 0, from the ReLU's output y; gx may be the same tensor as gy.</summary>
    public void ReluBackward(Tensor y, Tensor gy, Tensor gx, int n) => ActivationBackward(nameof(ReluBackward), Design.Activation.Relu, y, gy, gx, n);

    /// <summary>ReLU6, min(max(x, 0), 6) (IGCV3, MobileNetV2); x and y may be the same tensor.</summary>
    public void Relu6(Tensor x, Tensor y, int n) => Activate(nameof(Relu6), Design.Activation.Relu6, x, y, n);

    /// <summary>gx = gy where 0 &lt; y &lt; 6, else 0 (y: the ReLU6 output); gx may alias gy.</summary>
    public void Relu6Backward(Tensor y, Tensor gy, Tensor gx, int n) => ActivationBackward(nameof(Relu6Backward), Design.Activation.Relu6, y, gy, gx, n);

    private void Activate(string op, Design.Activation activation, Tensor x, Tensor y, int n)
    {
        using var timing = Time(op, x);
        int total = SameSamples(op, n, (x, "x"), (y, "y"));
        backend.Run(new Activations.Forward(total, activation, x, y));
    }

    private void ActivationBackward(string op, Design.Activation activation, Tensor y, Tensor gy, Tensor gx, int n)
    {
        using var timing = Time(op, gy);
        int total = SameSamples(op, n, (y, "y"), (gy, "gy"), (gx, "gx"));
        backend.Run(new Activations.Backward(total, activation, y, gy, gx));
    }
}

/// <summary>
/// The activations, act(v) and the gradient through them, gy act'(y) read from the output y: the scalar, the
/// Vector256 and the Vector512 forms that every kernel applying one calls (these ops, the fused BN store, the folded convolutions'
/// epilogues, the device kernels), so that all of them round and propagate alike. A NaN stays a NaN in the forward
/// (the comparison that clamps is false for it), and its gradient is 0.
/// </summary>
internal static class Activations
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float v, Activation activation) => activation switch
    {
        Activation.Relu => v <= 0f ? 0f : v,
        Activation.Relu6 => v <= 0f ? 0f : (v >= 6f ? 6f : v),
        _ => v,
    };

    // The native max and min (one instruction each) with v second: x86 returns the second operand for a NaN, so a NaN
    // propagates as in the scalar form.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> v, Activation activation) => activation switch
    {
        Activation.Relu => Vector256.MaxNative(Vector256<float>.Zero, v),
        Activation.Relu6 => Vector256.MinNative(Vector256.Create(6f), Vector256.MaxNative(Vector256<float>.Zero, v)),
        _ => v,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> v, Activation activation) => activation switch
    {
        Activation.Relu => Vector512.MaxNative(Vector512<float>.Zero, v),
        Activation.Relu6 => Vector512.MinNative(Vector512.Create(6f), Vector512.MaxNative(Vector512<float>.Zero, v)),
        _ => v,
    };

    /// <summary>gy act'(y): gy where y is strictly inside the activation's linear piece, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Pass(float y, float gy, Activation activation) => activation switch
    {
        Activation.Relu => y > 0f ? gy : 0f,
        Activation.Relu6 => y > 0f && y < 6f ? gy : 0f,
        _ => gy,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Pass(Vector256<float> y, Vector256<float> gy, Activation activation) => activation switch
    {
        Activation.Relu => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), gy, Vector256<float>.Zero),
        Activation.Relu6 => Vector256.ConditionalSelect(
            Vector256.GreaterThan(y, Vector256<float>.Zero) & Vector256.LessThan(y, Vector256.Create(6f)), gy, Vector256<float>.Zero),
        _ => gy,
    };

    /// <summary>y = act(x) over a span, Vector256 and a scalar tail.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, Activation activation)
    {
        var p = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; p + 8 <= x.Length; p += 8) Apply(Vector256.Create(x.Slice(p, 8)), activation).CopyTo(y.Slice(p, 8));
        }
        for (; p < x.Length; p++) y[p] = Apply(x[p], activation);
    }

    /// <summary>gx = gy act'(y) over a span.</summary>
    public static void Pass(ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx, Activation activation)
    {
        var p = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; p + 8 <= y.Length; p += 8) Pass(Vector256.Create(y.Slice(p, 8)), Vector256.Create(gy.Slice(p, 8)), activation).CopyTo(gx.Slice(p, 8));
        }
        for (; p < y.Length; p++) gx[p] = Pass(y[p], gy[p], activation);
    }

    /// <summary>y = act(x) over the first <see cref="Total"/> elements.</summary>
    public readonly record struct Forward(int Total, Activation Activation, Tensor X, Tensor Y) : IKernel
    {
        public void OnHost()
        {
            var (x, y, activation) = (new Buf(X), new Buf(Y), Activation);
            HostKernels.ForChunks(Total, (start, count) => Apply(x.Slice(start, count), y.Slice(start, count), activation));
        }

        public void OnDevice(Backend backend)
        {
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(ForwardKernel));
            kernel(backend.Threads(Total), Total, backend.Threads(Total), (int)Activation, X.Flat, Y.Flat);
        }
    }

    /// <summary>gx = gy act'(y) over the first <see cref="Total"/> elements.</summary>
    public readonly record struct Backward(int Total, Activation Activation, Tensor Y, Tensor Gy, Tensor Gx) : IKernel
    {
        public void OnHost()
        {
            var (y, gy, gx, activation) = (new Buf(Y), new Buf(Gy), new Buf(Gx), Activation);
            HostKernels.ForChunks(Total, (start, count) => Pass(y.Slice(start, count), gy.Slice(start, count), gx.Slice(start, count), activation));
        }

        public void OnDevice(Backend backend)
        {
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel));
            kernel(backend.Threads(Total), Total, backend.Threads(Total), (int)Activation, Y.Flat, Gy.Flat, Gx.Flat);
        }
    }

    [DeviceKernel]
    public static void ForwardKernel(Index1D index, int total, int stride, int activation, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride) y[i] = Apply(x[i], (Activation)activation);
    }

    [DeviceKernel]
    public static void BackwardKernel(Index1D index, int total, int stride, int activation, ArrayView<float> y, ArrayView<float> gy, ArrayView<float> gx)
    {
        for (int i = index; i < total; i += stride) gx[i] = Pass(y[i], gy[i], (Activation)activation);
    }
}
