using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

/// <summary>
/// The 3x3 stride-2 group convolution on the host (the W_1 that halves a stage's map), as stride-1 vector work:
/// each input row is split into its even columns E[j] = x[2j] and its odd columns O[j] = x[2j - 1] (O[0] = 0,
/// the left padding; O[Wo] = 0 past an odd width's edge). Output column o reads x[2o - 1], x[2o], x[2o + 1] =
/// O[o], E[o], O[o + 1], so forward, both backwards and the weight gradient become contiguous FMA runs over o,
/// where a direct loop would stride by 2.
/// </summary>
/// <remarks>
/// Every run is whole <see cref="Vector256{T}"/>s, with no scalar tail: the maps these convolutions halve are narrow
/// (MNIST's 28 and 14: 14 and 7 outputs a row), where a tail would be most of the row. Rows in split form are
/// padded to whole vectors with zeros (<see cref="Layout"/>), the output and gradient planes are accumulated in a
/// per-thread padded scratch and copied out, and the lanes past a row's end compute zeros or are dropped. A work
/// item splits the planes it reads into that scratch, where they stay in cache for the taps: splitting the whole
/// tensor first sent it through memory twice more and took as long as the convolution (measured 1.8x faster per op
/// at [64, 32, 28, 28] and [64, 64, 14, 14] without it). Depthwise W_1 (K_1 = 1) reads each plane in one item, so
/// nothing is split twice; a grouped W_1 splits each plane once per output channel of its branch.
/// </remarks>
internal static unsafe class Conv3x3Stride2
{
    private const int VectorFloats = 8;

    /// <summary>
    /// One plane in split form: per input row, E in <see cref="Padded"/> floats (Wo rounded up to whole vectors),
    /// then O in <see cref="Padded"/> + 8 (O[0..Wo], and the lanes a vector starting at O[j + 1] reaches); zeros
    /// past the valid columns.
    /// </summary>
    private readonly struct Layout(ConvGeometry g)
    {
        public readonly int Padded = SplitPadded(g.Wo);
        public int RowStride => SplitStride(g.Wo);
        public int Plane => g.H * RowStride;
    }

    /// <summary>Floats of E in a split row for <paramref name="outputs"/> outputs (whole vectors); O follows.</summary>
    internal static int SplitPadded(int outputs) => RoundUp(outputs);

    /// <summary>Floats of one split row: E, then O with the lanes a vector starting at O[j + 1] reaches.</summary>
    internal static int SplitStride(int outputs) => 2 * RoundUp(outputs) + VectorFloats;

    /// <summary>y = W x (<see cref="Convolution.ForwardOnHost"/> for k = 3, stride 2).</summary>
    public static void Forward(ConvGeometry g, Buf x, Buf w, Buf y)
    {
        var layout = new Layout(g);
        int planeOut = g.Ho * g.Wo, padded = layout.Padded, rowStride = layout.RowStride;
        HostKernels.ForPlanes(g.N * g.Cout, (long)g.Cig * 9 * planeOut, item =>
        {
            int co = item % g.Cout, s = item / g.Cout, branch = co / g.Cog;
            var scratch = ThreadScratch.For(g.Ho * padded + layout.Plane + 2 * padded);
            fixed (float* acc = scratch)
            {
                float* sp = acc + g.Ho * padded, rowBuffer = sp + layout.Plane;
                new Span<float>(acc, g.Ho * padded).Clear();
                var ws = w.Pointer;
                for (int cil = 0; cil < g.Cig; cil++)
                {
                    SplitPlane(g, layout, x.Pointer + (long)(s * g.Cin + branch * g.Cig + cil) * g.H * g.W, rowBuffer, sp);
                    var wt = ws + (co * g.Cig + cil) * 9;
                    for (int ky = 0; ky < 3; ky++)
                    {
                        Vector256<float> a = Vector256.Create(wt[ky * 3]), b = Vector256.Create(wt[ky * 3 + 1]), c = Vector256.Create(wt[ky * 3 + 2]);
                        for (int oy = ConvGeometry.RangeStart(ky - 1, 2); oy < ConvGeometry.RangeEnd(ky - 1, 2, g.H, g.Ho); oy++)
                        {
                            var even = sp + (2 * oy + ky - 1) * rowStride;
                            var odd = even + padded;
                            var row = acc + oy * padded;
                            for (int i = 0; i < padded; i += VectorFloats)
                            {
                                // acc[o] += a O[o] + b E[o] + c O[o + 1]: the row's three horizontal taps.
                                (Vector256.Load(row + i) + a * Vector256.Load(odd + i) + b * Vector256.Load(even + i) + c * Vector256.Load(odd + i + 1)).Store(row + i);
                            }
                        }
                    }
                }
                // Whole padded rows, in order: the lanes past a row land on the next row before it is written; the
                // rows whose vectors would pass the plane's end are copied.
                var yp = y.Pointer + (long)item * planeOut;
                for (int oy = 0; oy < g.Ho; oy++)
                {
                    var target = yp + oy * g.Wo;
                    if (oy * g.Wo + padded <= planeOut)
                    {
                        for (int i = 0; i < padded; i += VectorFloats) Vector256.Load(acc + oy * padded + i).Store(target + i);
                    }
                    else
                    {
                        new ReadOnlySpan<float>(acc + oy * padded, g.Wo).CopyTo(new Span<float>(target, g.Wo));
                    }
                }
            }
        });
    }

    /// <summary>gx = W^T gy: each gx plane gathers into its split form (per thread), then merges back to columns.</summary>
    public static void BackwardInput(ConvGeometry g, Buf gy, Buf w, Buf gx)
    {
        var layout = new Layout(g);
        int planeIn = g.H * g.W, planeOut = g.Ho * g.Wo, padded = layout.Padded, rowStride = layout.RowStride;
        // gy rows padded: a zero, the row, zeros, so that O[j] += a gy[j] + c gy[j - 1] reads whole vectors.
        int gyStride = padded + 2 * VectorFloats, oLength = RoundUp(g.Wo + 1);
        HostKernels.ForPlanes(g.N * g.Cin, (long)g.Cog * 9 * planeOut, item =>
        {
            int ci = item % g.Cin, s = item / g.Cin, branch = ci / g.Cig, cil = ci - branch * g.Cig;
            var scratch = ThreadScratch.For(layout.Plane + g.Ho * gyStride + 2 * padded);
            fixed (float* scratchBase = scratch)
            {
                float* sp = scratchBase, gyPad = sp + layout.Plane, row = gyPad + g.Ho * gyStride;
                new Span<float>(scratchBase, layout.Plane + g.Ho * gyStride).Clear();
                var ws = w.Pointer;
                for (int col = 0; col < g.Cog; col++)
                {
                    int co = branch * g.Cog + col;
                    var gyp = gy.Pointer + (long)(s * g.Cout + co) * planeOut;
                    for (int oy = 0; oy < g.Ho; oy++) new ReadOnlySpan<float>(gyp + oy * g.Wo, g.Wo).CopyTo(new Span<float>(gyPad + oy * gyStride + 1, g.Wo));
                    var wt = ws + (co * g.Cig + cil) * 9;
                    for (int ky = 0; ky < 3; ky++)
                    {
                        Vector256<float> a = Vector256.Create(wt[ky * 3]), b = Vector256.Create(wt[ky * 3 + 1]), c = Vector256.Create(wt[ky * 3 + 2]);
                        for (int oy = ConvGeometry.RangeStart(ky - 1, 2); oy < ConvGeometry.RangeEnd(ky - 1, 2, g.H, g.Ho); oy++)
                        {
                            var even = sp + (2 * oy + ky - 1) * rowStride;
                            var odd = even + padded;
                            var gr = gyPad + oy * gyStride;
                            for (int i = 0; i < padded; i += VectorFloats) (Vector256.Load(even + i) + b * Vector256.Load(gr + 1 + i)).Store(even + i);
                            for (int i = 0; i < oLength; i += VectorFloats)
                            {
                                (Vector256.Load(odd + i) + a * Vector256.Load(gr + 1 + i) + c * Vector256.Load(gr + i)).Store(odd + i);
                            }
                        }
                    }
                }
                var gxp = gx.Pointer + (long)item * planeIn;
                // Rows in order, in place where their vectors stay inside the plane (the lanes past a row land on the
                // next row before it is written), through the row buffer at its end.
                for (int r = 0; r < g.H; r++) Merge(sp + r * rowStride, padded, r * g.W + 2 * padded <= planeIn ? null : row, gxp + r * g.W, g.W);
            }
        });
    }

    /// <summary>gw = gy x^T per tap: one worker owns the nine weights of one (output channel, branch input) pair.</summary>
    public static void BackwardWeight(ConvGeometry g, Buf x, Buf gy, Buf gw)
    {
        var layout = new Layout(g);
        int planeOut = g.Ho * g.Wo, padded = layout.Padded, rowStride = layout.RowStride;
        HostKernels.ForPlanes(g.Cout * g.Cig, (long)g.N * 9 * planeOut, item =>
        {
            int cil = item % g.Cig, co = item / g.Cig, ci = (co / g.Cog) * g.Cig + cil;
            Span<double> sums = stackalloc double[9];
            sums.Clear();
            var scratch = ThreadScratch.For(g.Ho * padded + layout.Plane + 2 * padded);
            fixed (float* gyPad = scratch)
            {
                float* sp = gyPad + g.Ho * padded, row = sp + layout.Plane;
                // gy rows as whole vectors with the lanes past Wo zeroed, so the products there vanish: read in place
                // where the vectors stay inside the plane, from a zero-padded copy at its end.
                new Span<float>(gyPad, g.Ho * padded).Clear();
                int inPlace = planeOut < padded ? 0 : Math.Min(g.Ho, (planeOut - padded) / g.Wo + 1);
                for (int s = 0; s < g.N; s++)
                {
                    var gyp = gy.Pointer + (long)(s * g.Cout + co) * planeOut;
                    for (int oy = inPlace; oy < g.Ho; oy++) new ReadOnlySpan<float>(gyp + oy * g.Wo, g.Wo).CopyTo(new Span<float>(gyPad + oy * padded, g.Wo));
                    SplitPlane(g, layout, x.Pointer + (long)(s * g.Cin + ci) * g.H * g.W, row, sp);
                    for (int ky = 0; ky < 3; ky++)
                    {
                        Vector256<float> a = default, b = default, c = default;
                        for (int oy = ConvGeometry.RangeStart(ky - 1, 2); oy < ConvGeometry.RangeEnd(ky - 1, 2, g.H, g.Ho); oy++)
                        {
                            var even = sp + (2 * oy + ky - 1) * rowStride;
                            var odd = even + padded;
                            bool copied = oy >= inPlace;
                            var gr = copied ? gyPad + oy * padded : gyp + oy * g.Wo;
                            for (int i = 0; i < padded; i += VectorFloats)
                            {
                                var v = copied ? Vector256.Load(gr + i) : Vector256.ConditionalSelect(Lanes.Last(0, g.Wo - i), Vector256.Load(gr + i), default);
                                a += v * Vector256.Load(odd + i);
                                b += v * Vector256.Load(even + i);
                                c += v * Vector256.Load(odd + i + 1);
                            }
                        }
                        // Float within a sample, double across samples (as the other weight gradients).
                        sums[ky * 3] += Vector256.Sum(a);
                        sums[ky * 3 + 1] += Vector256.Sum(b);
                        sums[ky * 3 + 2] += Vector256.Sum(c);
                    }
                }
            }
            var gws = gw.Slice(item * 9, 9);
            for (int t = 0; t < 9; t++) gws[t] = (float)sums[t];
        });
    }

    /// <summary>One input plane into split form in <paramref name="split"/> (this thread's scratch, where it stays in cache for the taps).</summary>
    private static void SplitPlane(ConvGeometry g, Layout layout, float* plane, float* row, float* split)
    {
        int planeIn = g.H * g.W;
        for (int r = 0; r < g.H; r++) SplitRow(plane + r * g.W, g.W, r * g.W + 2 * layout.Padded <= planeIn, layout.Padded, row, split + r * layout.RowStride);
    }

    /// <summary>
    /// One input row into split form: E[j] = x[2j], O[0] = 0, O[j + 1] = x[2j + 1], zeros past the row. The row is
    /// read in place when its vectors stay inside the plane (<paramref name="inPlace"/>), else from a copy in
    /// <paramref name="row"/> (2 * padded floats of this thread's scratch).
    /// </summary>
    internal static void SplitRow(float* x, int width, bool inPlace, int padded, float* row, float* split)
    {
        if (!inPlace)
        {
            new ReadOnlySpan<float>(x, width).CopyTo(new Span<float>(row, width));
            x = row;
        }
        float* even = split, odd = split + padded;
        var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        for (int j = 0; j < padded; j += VectorFloats)
        {
            // Sixteen columns into their even and odd lanes, the columns past the row zeroed.
            var lo = Permute(Vector256.ConditionalSelect(Lanes.Last(0, width - 2 * j), Vector256.Load(x + 2 * j), default), order);
            var hi = Permute(Vector256.ConditionalSelect(Lanes.Last(0, width - 2 * j - VectorFloats), Vector256.Load(x + 2 * j + VectorFloats), default), order);
            Vector256.Create(lo.GetLower(), hi.GetLower()).Store(even + j);
            Vector256.Create(lo.GetUpper(), hi.GetUpper()).Store(odd + j + 1);
        }
        odd[0] = 0f;
        new Span<float>(odd + padded + 1, VectorFloats - 1).Clear();
    }

    /// <summary>
    /// The inverse of <see cref="SplitRow"/> for one row: x[2j] = E[j], x[2j + 1] = O[j + 1]; O[0] (the padding) is dropped.
    /// Written straight to x when <paramref name="row"/> is null, else through it (2 * padded floats) and copied.
    /// </summary>
    private static void Merge(float* split, int padded, float* row, float* x, int width)
    {
        float* even = split, odd = split + padded, target = row is null ? x : row;
        var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        for (int j = 0; j < padded; j += VectorFloats)
        {
            Vector256<float> e = Vector256.Load(even + j), o = Vector256.Load(odd + j + 1);
            Permute(Vector256.Create(e.GetLower(), o.GetLower()), order).Store(target + 2 * j);
            Permute(Vector256.Create(e.GetUpper(), o.GetUpper()), order).Store(target + 2 * j + VectorFloats);
        }
        if (row is not null) new ReadOnlySpan<float>(row, width).CopyTo(new Span<float>(x, width));
    }

    /// <summary>Lanes of v in <paramref name="order"/>: one vpermps with AVX2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Permute(Vector256<float> v, Vector256<int> order) =>
        Avx2.IsSupported ? Avx2.PermuteVar8x32(v, order) : Vector256.Shuffle(v, order);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RoundUp(int count) => (count + VectorFloats - 1) / VectorFloats * VectorFloats;
}
