using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Igcv2.Design;

namespace Igcv2.Kernels;

/// <summary>The pieces of a Vector256 host kernel: tail masks, masked loads and stores, and the activations in a store.</summary>
internal static class Lanes
{
    /// <summary>The lanes [from, to) of a vector, as a mask.</summary>
    public static Vector256<float> Last(int from, int to)
    {
        var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        return (Vector256.GreaterThanOrEqual(lane, Vector256.Create(from)) & Vector256.LessThan(lane, Vector256.Create(to))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Activate(Vector256<float> v, Activation activation) => activation switch
    {
        // The native max and min (one instruction each) with v second: x86 returns the second operand for a NaN, so a
        // NaN still propagates, as with the unfused steps' max.
        Activation.Relu => Vector256.MaxNative(Vector256<float>.Zero, v),
        Activation.Relu6 => Vector256.MinNative(Vector256.Create(6f), Vector256.MaxNative(Vector256<float>.Zero, v)),
        _ => v,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activate(float v, Activation activation) => activation switch
    {
        Activation.Relu => MathF.Max(v, 0f),
        Activation.Relu6 => MathF.Min(MathF.Max(v, 0f), 6f),
        _ => v,
    };

    /// <summary>A whole vector, or (AVX) only the lanes of <paramref name="mask"/>, reading nothing past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> Load(float* at, bool whole, Vector256<float> mask) => whole ? Vector256.Load(at) : Avx.MaskLoad(at, mask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector256<float> v, float* at, bool whole, Vector256<float> mask)
    {
        if (whole) v.Store(at);
        else Avx.MaskStore(at, mask, v);
    }
}
