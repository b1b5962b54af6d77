using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Igcv2.Kernels;

/// <summary>The pieces of a Vector256 host kernel: tail masks, masked loads and stores, and whether the wide (Vector512) paths run.</summary>
internal static class Lanes
{
    /// <summary>
    /// Whether the tiles that have a Vector512 form take it: on by default where the CPU runs Vector512 natively
    /// (AVX-512; .NET reports it off on the cores that slow down for it). Each output adds the same terms by FMA in
    /// the same order either way, so the two forms agree bit for bit; the tests hold them to that by switching this.
    /// </summary>
    public static bool Wide { get; set; } = Vector512.IsHardwareAccelerated;

    /// <summary>The lanes [from, to) of a vector, as a mask.</summary>
    public static Vector256<float> Last(int from, int to)
    {
        var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        return (Vector256.GreaterThanOrEqual(lane, Vector256.Create(from)) & Vector256.LessThan(lane, Vector256.Create(to))).AsSingle();
    }

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
