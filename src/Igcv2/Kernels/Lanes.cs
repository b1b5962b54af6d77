using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Igcv2.Kernels;

/// <summary>The pieces of the vector host kernels: tail masks, masked loads and stores (Vector256 and Vector512), and whether the wide (Vector512) paths run.</summary>
internal static class Lanes
{
    /// <summary>
    /// Whether the tiles that have a Vector512 form take it: on by default where the CPU runs Vector512 natively
    /// (AVX-512; .NET reports it off on the cores that slow down for it). Each output adds the same terms by FMA in
    /// the same order either way, so the two forms agree bit for bit; the tests hold them to that by switching this.
    /// </summary>
    public static bool Wide
    {
        get => wide;
        // Where Vector512 is not native there is one width: the wide paths use AVX-512's masked loads and stores.
        set => wide = value && Vector512.IsHardwareAccelerated;
    }

    private static bool wide = Vector512.IsHardwareAccelerated;

    /// <summary>The lanes l of a Vector512 with 0 &lt;= first + l &lt; count, as a mask (AVX-512's masked loads and stores take it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Within(int first, int count)
    {
        var index = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + Vector512.Create(first);
        return (Vector512.GreaterThanOrEqual(index, Vector512<int>.Zero) & Vector512.LessThan(index, Vector512.Create(count))).AsSingle();
    }

    /// <summary>The lanes of <paramref name="mask"/> from <paramref name="at"/>, zeros elsewhere; masked-off lanes are not read (AVX-512: they cannot fault).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load(float* at, Vector512<float> mask) => Avx512F.MaskLoad(at, mask, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector512<float> v, float* at, Vector512<float> mask) => Avx512F.MaskStore(at, mask, v);

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
