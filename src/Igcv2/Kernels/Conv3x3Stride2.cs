using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

/// <summary>
/// The 3x3 stride-2 group convolution on the host (the W_1 that halves a stage's map), as stride-1 vector work:
/// each input row is split once into its even columns E[j] = x[2j] and its odd columns O[j] = x[2j - 1] (O[0] = 0,
/// the left padding; O[Wo] = 0 past an odd width's edge). Output column o reads x[2o - 1], x[2o], x[2o + 1] =
/// O[o], E[o], O[o + 1], so forward, both backwards and the weight gradient become contiguous FMA runs over o,
/// where a direct loop would stride by 2. One split row holds E (Wo floats), then O (Wo + 1 floats).
/// </summary>
internal static class Conv3x3Stride2
{
    /// <summary>y = W x (<see cref="HostKernels.Conv2d"/> for k = 3, stride 2).</summary>
    public static void Forward(ConvGeometry g, Buf x, Buf w, Buf y)
    {
        int planeOut = g.Ho * g.Wo, rowWidth = 2 * g.Wo + 1, splitPlane = g.H * rowWidth;
        WithSplitInput(g, x, split => HostParallel(g.N * g.Cout, (long)g.Cig * 9 * planeOut, item =>
        {
            int co = item % g.Cout, s = item / g.Cout, branch = co / g.Cog;
            var yp = y.Slice(item * planeOut, planeOut);
            yp.Clear();
            var ws = w.Span;
            for (int cil = 0; cil < g.Cig; cil++)
            {
                var sp = split.AsSpan((s * g.Cin + branch * g.Cig + cil) * splitPlane, splitPlane);
                int wBase = (co * g.Cig + cil) * 9;
                for (int ky = 0; ky < 3; ky++)
                {
                    float a = ws[wBase + ky * 3], b = ws[wBase + ky * 3 + 1], c = ws[wBase + ky * 3 + 2];
                    for (int oy = ConvGeometry.RangeStart(ky - 1, 2); oy < ConvGeometry.RangeEnd(ky - 1, 2, g.H, g.Ho); oy++)
                    {
                        int r = 2 * oy + ky - 1;
                        var row = sp.Slice(r * rowWidth, rowWidth);
                        Taps(yp.Slice(oy * g.Wo, g.Wo), row[..g.Wo], row[g.Wo..], a, b, c);
                    }
                }
            }
        }));
    }

    /// <summary>gx = W^T gy: each gx plane gathers into its split form, then merges back to columns.</summary>
    public static void BackwardInput(ConvGeometry g, Buf gy, Buf w, Buf gx)
    {
        int planeIn = g.H * g.W, planeOut = g.Ho * g.Wo, rowWidth = 2 * g.Wo + 1, splitPlane = g.H * rowWidth;
        var split = ArrayPool<float>.Shared.Rent(g.N * g.Cin * splitPlane);
        try
        {
            HostParallel(g.N * g.Cin, (long)g.Cog * 9 * planeOut, item =>
            {
                int ci = item % g.Cin, s = item / g.Cin, branch = ci / g.Cig, cil = ci - branch * g.Cig;
                var sp = split.AsSpan(item * splitPlane, splitPlane);
                sp.Clear();
                var ws = w.Span;
                for (int col = 0; col < g.Cog; col++)
                {
                    int co = branch * g.Cog + col;
                    var gyp = gy.Slice((s * g.Cout + co) * planeOut, planeOut);
                    int wBase = (co * g.Cig + cil) * 9;
                    for (int ky = 0; ky < 3; ky++)
                    {
                        float a = ws[wBase + ky * 3], b = ws[wBase + ky * 3 + 1], c = ws[wBase + ky * 3 + 2];
                        for (int oy = ConvGeometry.RangeStart(ky - 1, 2); oy < ConvGeometry.RangeEnd(ky - 1, 2, g.H, g.Ho); oy++)
                        {
                            int r = 2 * oy + ky - 1;
                            var gyRow = gyp.Slice(oy * g.Wo, g.Wo);
                            var row = sp.Slice(r * rowWidth, rowWidth);
                            var odd = row[g.Wo..];
                            HostKernels.Axpy(b, gyRow, row[..g.Wo]);
                            HostKernels.Axpy(a, gyRow, odd[..g.Wo]);
                            HostKernels.Axpy(c, gyRow, odd[1..]);
                        }
                    }
                }
                Merge(sp, g.H, g.W, g.Wo, gx.Slice(item * planeIn, planeIn));
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(split);
        }
    }

    /// <summary>gw = gy x^T per tap: one worker owns the nine weights of one (output channel, branch input) pair.</summary>
    public static void BackwardWeight(ConvGeometry g, Buf x, Buf gy, Buf gw)
    {
        int planeOut = g.Ho * g.Wo, rowWidth = 2 * g.Wo + 1, splitPlane = g.H * rowWidth;
        WithSplitInput(g, x, split => HostParallel(g.Cout * g.Cig, (long)g.N * 9 * planeOut, item =>
        {
            int cil = item % g.Cig, co = item / g.Cig, ci = (co / g.Cog) * g.Cig + cil;
            var gws = gw.Slice(item * 9, 9);
            for (int ky = 0; ky < 3; ky++)
            {
                double a = 0, b = 0, c = 0;
                for (int s = 0; s < g.N; s++)
                {
                    var sp = split.AsSpan((s * g.Cin + ci) * splitPlane, splitPlane);
                    var gyp = gy.Slice((s * g.Cout + co) * planeOut, planeOut);
                    float sa = 0f, sb = 0f, sc = 0f;
                    for (int oy = ConvGeometry.RangeStart(ky - 1, 2); oy < ConvGeometry.RangeEnd(ky - 1, 2, g.H, g.Ho); oy++)
                    {
                        int r = 2 * oy + ky - 1;
                        var gyRow = gyp.Slice(oy * g.Wo, g.Wo);
                        var row = sp.Slice(r * rowWidth, rowWidth);
                        var odd = row[g.Wo..];
                        sa += HostKernels.Dot(gyRow, odd[..g.Wo]);
                        sb += HostKernels.Dot(gyRow, row[..g.Wo]);
                        sc += HostKernels.Dot(gyRow, odd[1..]);
                    }
                    a += sa;
                    b += sb;
                    c += sc;
                }
                gws[ky * 3] = (float)a;
                gws[ky * 3 + 1] = (float)b;
                gws[ky * 3 + 2] = (float)c;
            }
        }));
    }

    /// <summary>Runs <paramref name="body"/> with every input plane of x split, in pooled memory returned afterwards.</summary>
    private static void WithSplitInput(ConvGeometry g, Buf x, Action<float[]> body)
    {
        var split = ArrayPool<float>.Shared.Rent(g.N * g.Cin * g.H * (2 * g.Wo + 1));
        try
        {
            SplitAll(g, x, split);
            body(split);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(split);
        }
    }

    /// <summary>Every input plane of x into <paramref name="split"/>, plane after plane.</summary>
    private static void SplitAll(ConvGeometry g, Buf x, float[] split)
    {
        int planeIn = g.H * g.W, splitPlane = g.H * (2 * g.Wo + 1);
        HostParallel(g.N * g.Cin, planeIn, p => Split(x.Slice(p * planeIn, planeIn), g.H, g.W, g.Wo, split.AsSpan(p * splitPlane, splitPlane)));
    }

    /// <summary>One plane's rows into [E | O]: E[j] = x[2j], O[0] = 0, O[j + 1] = x[2j + 1] (0 past the edge).</summary>
    internal static void Split(ReadOnlySpan<float> plane, int h, int w, int wo, Span<float> split)
    {
        int rowWidth = 2 * wo + 1;
        for (int r = 0; r < h; r++)
        {
            var row = plane.Slice(r * w, w);
            var even = split.Slice(r * rowWidth, wo);
            var odd = split.Slice(r * rowWidth + wo, wo + 1);
            odd[0] = 0f;
            for (int j = 0; j < wo; j++)
            {
                even[j] = row[2 * j];
                odd[j + 1] = 2 * j + 1 < w ? row[2 * j + 1] : 0f;
            }
        }
    }

    /// <summary>The inverse of <see cref="Split"/>: x[2j] = E[j], x[2j + 1] = O[j + 1]; O[0] (the padding) is dropped.</summary>
    internal static void Merge(ReadOnlySpan<float> split, int h, int w, int wo, Span<float> plane)
    {
        int rowWidth = 2 * wo + 1;
        for (int r = 0; r < h; r++)
        {
            var row = plane.Slice(r * w, w);
            var even = split.Slice(r * rowWidth, wo);
            var odd = split.Slice(r * rowWidth + wo, wo + 1);
            for (int j = 0; j < wo; j++)
            {
                row[2 * j] = even[j];
                if (2 * j + 1 < w) row[2 * j + 1] = odd[j + 1];
            }
        }
    }

    /// <summary>acc[o] += a odd[o] + b even[o] + c odd[o + 1]: one row of three horizontal taps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Taps(Span<float> acc, ReadOnlySpan<float> even, ReadOnlySpan<float> odd, float a, float b, float c)
    {
        int i = 0, count = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated && acc.Length >= count)
        {
            var va = new Vector<float>(a);
            var vb = new Vector<float>(b);
            var vc = new Vector<float>(c);
            ref float racc = ref MemoryMarshal.GetReference(acc);
            ref float re = ref MemoryMarshal.GetReference(even);
            ref float ro = ref MemoryMarshal.GetReference(odd);
            for (; i <= acc.Length - count; i += count)
            {
                var sum = Vector.LoadUnsafe(ref racc, (nuint)i)
                    + va * Vector.LoadUnsafe(ref ro, (nuint)i)
                    + vb * Vector.LoadUnsafe(ref re, (nuint)i)
                    + vc * Vector.LoadUnsafe(ref ro, (nuint)(i + 1));
                sum.StoreUnsafe(ref racc, (nuint)i);
            }
        }
        for (; i < acc.Length; i++) acc[i] += a * odd[i] + b * even[i] + c * odd[i + 1];
    }

    private static void HostParallel(int count, long workPerItem, Action<int> body) => HostKernels.ForPlanes(count, workPerItem, body);
}
