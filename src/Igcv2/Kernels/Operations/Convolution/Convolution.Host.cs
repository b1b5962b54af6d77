using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

// The group convolutions' host loops: one worker owns an output plane (forward), an input plane (backward input) or a
// weight row (backward weight); the 3x3 and 1x1 tiles (Conv3x3Tiles, Conv3x3Stride2, PointwiseTiles) are theirs.
internal static unsafe partial class Convolution
{
    /// <summary>
    /// sums[r] += gy . x[start + r * stride ..] for the four rows r = 0..3 of x that follow one another
    /// <paramref name="stride"/> apart: each gy vector loaded serves four products (the 1x1 weight gradient).
    /// </summary>
    private static void Dot4(ReadOnlySpan<float> gy, ReadOnlySpan<float> x, int start, int stride, Span<double> sums)
    {
        int i = 0, length = gy.Length;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        ref float rx = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), start);
        if (Vector.IsHardwareAccelerated && length >= Vector<float>.Count)
        {
            Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
            ref float rg = ref MemoryMarshal.GetReference(gy);
            for (; i <= length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref rg, (nuint)i);
                a0 += v * Vector.LoadUnsafe(ref rx, (nuint)i);
                a1 += v * Vector.LoadUnsafe(ref rx, (nuint)(i + stride));
                a2 += v * Vector.LoadUnsafe(ref rx, (nuint)(i + 2 * stride));
                a3 += v * Vector.LoadUnsafe(ref rx, (nuint)(i + 3 * stride));
            }
            s0 = Vector.Sum(a0);
            s1 = Vector.Sum(a1);
            s2 = Vector.Sum(a2);
            s3 = Vector.Sum(a3);
        }
        for (; i < length; i++)
        {
            float v = gy[i];
            s0 += v * Unsafe.Add(ref rx, i);
            s1 += v * Unsafe.Add(ref rx, i + stride);
            s2 += v * Unsafe.Add(ref rx, i + 2 * stride);
            s3 += v * Unsafe.Add(ref rx, i + 3 * stride);
        }
        sums[0] += s0;
        sums[1] += s1;
        sums[2] += s2;
        sums[3] += s3;
    }

    /// <summary>
    /// One output row of a 3x3 stride-1 convolution from its three input rows (a missing row is passed as
    /// zeros): acc[i] += sum over r, t of w[3r + t] rows[r][i + t - 1], all nine taps fused in one pass.
    /// </summary>
    private static void Row9(Span<float> acc, ReadOnlySpan<float> r0, ReadOnlySpan<float> r1, ReadOnlySpan<float> r2, ReadOnlySpan<float> w)
    {
        int width = acc.Length;
        if (width < 2)
        {
            acc[0] += w[1] * r0[0] + w[4] * r1[0] + w[7] * r2[0];
            return;
        }
        float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8];
        acc[0] += w1 * r0[0] + w2 * r0[1] + w4 * r1[0] + w5 * r1[1] + w7 * r2[0] + w8 * r2[1];
        int i = 1;
        int count = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated && width - 1 - count >= 1)
        {
            Vector<float> v0 = new(w0), v1 = new(w1), v2 = new(w2), v3 = new(w3), v4 = new(w4), v5 = new(w5), v6 = new(w6), v7 = new(w7), v8 = new(w8);
            ref float a0 = ref MemoryMarshal.GetReference(r0);
            ref float a1 = ref MemoryMarshal.GetReference(r1);
            ref float a2 = ref MemoryMarshal.GetReference(r2);
            ref float ra = ref MemoryMarshal.GetReference(acc);
            for (; i <= width - 1 - count; i += count)
            {
                nuint l = (nuint)(i - 1), c = (nuint)i, r = (nuint)(i + 1);
                var top = v0 * Vector.LoadUnsafe(ref a0, l) + v1 * Vector.LoadUnsafe(ref a0, c) + v2 * Vector.LoadUnsafe(ref a0, r);
                var mid = v3 * Vector.LoadUnsafe(ref a1, l) + v4 * Vector.LoadUnsafe(ref a1, c) + v5 * Vector.LoadUnsafe(ref a1, r);
                var bottom = v6 * Vector.LoadUnsafe(ref a2, l) + v7 * Vector.LoadUnsafe(ref a2, c) + v8 * Vector.LoadUnsafe(ref a2, r);
                (Vector.LoadUnsafe(ref ra, c) + top + mid + bottom).StoreUnsafe(ref ra, c);
            }
        }
        for (; i < width - 1; i++)
        {
            acc[i] += w0 * r0[i - 1] + w1 * r0[i] + w2 * r0[i + 1]
                + w3 * r1[i - 1] + w4 * r1[i] + w5 * r1[i + 1]
                + w6 * r2[i - 1] + w7 * r2[i] + w8 * r2[i + 1];
        }
        int e = width - 1;
        acc[e] += w0 * r0[e - 1] + w1 * r0[e] + w3 * r1[e - 1] + w4 * r1[e] + w6 * r2[e - 1] + w7 * r2[e];
    }

    /// <summary>
    /// acc += src 3x3-convolved with w (stride 1, padding 1) over a whole plane. The interior rows run as one
    /// flat span, so narrow planes (MNIST's 28, 14, 7) still fill whole vectors; the terms that wrapped
    /// across a row end are then subtracted. <paramref name="zeros"/> stands in for the padding rows.
    /// </summary>
    private static void Plane3x3(Span<float> acc, ReadOnlySpan<float> src, int h, int width, ReadOnlySpan<float> w, ReadOnlySpan<float> zeros)
    {
        if (h < 3 || width < 2)
        {
            for (int y = 0; y < h; y++)
            {
                var above = y > 0 ? src.Slice((y - 1) * width, width) : zeros;
                var below = y + 1 < h ? src.Slice((y + 1) * width, width) : zeros;
                Row9(acc.Slice(y * width, width), above, src.Slice(y * width, width), below, w);
            }
            return;
        }
        Row9(acc.Slice(0, width), zeros, src.Slice(0, width), src.Slice(width, width), w);
        Row9(acc.Slice((h - 1) * width, width), src.Slice((h - 2) * width, width), src.Slice((h - 1) * width, width), zeros, w);
        int length = (h - 2) * width;
        var run = acc.Slice(width, length);
        ReadOnlySpan<float> r0 = src.Slice(0, length), r1 = src.Slice(width, length), r2 = src.Slice(2 * width, length);
        Row9(run, r0, r1, r2, w);
        for (int i = width; i < length; i += width)
        {
            // i is a first column: it read the previous row's last column, and that column read i.
            run[i] -= w[0] * r0[i - 1] + w[3] * r1[i - 1] + w[6] * r2[i - 1];
            run[i - 1] -= w[2] * r0[i] + w[5] * r1[i] + w[8] * r2[i];
        }
    }

    /// <summary>
    /// The three horizontal taps of a 3x3 weight gradient from one row pair, in one pass:
    /// a += sum gy[i] x[i-1], b += sum gy[i] x[i], c += sum gy[i] x[i+1] (stride 1, terms outside x dropped).
    /// </summary>
    private static void RowDot3(ReadOnlySpan<float> gy, ReadOnlySpan<float> x, ref double a, ref double b, ref double c)
    {
        int w = x.Length;
        if (w == 1)
        {
            b += gy[0] * x[0];
            return;
        }
        float sa = 0f, sb = gy[0] * x[0], sc = gy[0] * x[1];
        int i = 1;
        if (Vector.IsHardwareAccelerated && w - 1 - Vector<float>.Count >= 1)
        {
            Vector<float> va = default, vb = default, vc = default;
            ref float rg = ref MemoryMarshal.GetReference(gy);
            ref float rx = ref MemoryMarshal.GetReference(x);
            for (; i <= w - 1 - Vector<float>.Count; i += Vector<float>.Count)
            {
                var g = Vector.LoadUnsafe(ref rg, (nuint)i);
                va += g * Vector.LoadUnsafe(ref rx, (nuint)(i - 1));
                vb += g * Vector.LoadUnsafe(ref rx, (nuint)i);
                vc += g * Vector.LoadUnsafe(ref rx, (nuint)(i + 1));
            }
            sa += Vector.Sum(va);
            sb += Vector.Sum(vb);
            sc += Vector.Sum(vc);
        }
        for (; i < w - 1; i++)
        {
            sa += gy[i] * x[i - 1];
            sb += gy[i] * x[i];
            sc += gy[i] * x[i + 1];
        }
        sa += gy[w - 1] * x[w - 2];
        sb += gy[w - 1] * x[w - 1];
        a += sa;
        b += sb;
        c += sc;
    }

    /// <summary>
    /// A 1x1 group convolution branch over one sample, blocked over pixels so each output is stored once:
    /// dst[d][p] = sum_j m[d * srcCount + j] src[j][p] for srcCount contiguous source planes and dstCount
    /// contiguous destination planes of length <paramref name="plane"/>. Four destination planes at a time, so each
    /// source vector loaded serves four multiply-adds; every output adds its terms in the order j = 0, 1, ...
    /// whichever block computes it, so the blocking does not change a bit.
    /// </summary>
    private static void Mix(ReadOnlySpan<float> src, int srcCount, Span<float> dst, int dstCount, ReadOnlySpan<float> m, int plane)
    {
        const int Chunk = 256;
        if (Fma.IsSupported && Avx2.IsSupported)
        {
            // FMA in register tiles of 4 outputs x 16 pixels (PointwiseTiles, shared with the fused inference blocks).
            fixed (float* sp = src)
            fixed (float* dp = dst)
            fixed (float* mp = m)
            {
                var zeros = stackalloc float[] { 0f, 0f, 0f, 0f };
                var identity = stackalloc int[] { 0, 1, 2, 3 };
                for (int p0 = 0; p0 < plane; p0 += Chunk)
                {
                    int length = Math.Min(Chunk, plane - p0);
                    int d = 0;
                    for (; d + 4 <= dstCount; d += 4)
                    {
                        PointwiseTiles.Four(sp + p0, plane, srcCount, mp + d * srcCount, zeros, identity, dp + (long)d * plane + p0, plane,
                            length, null, 0, Design.Activation.None);
                    }
                    for (; d < dstCount; d++)
                    {
                        PointwiseTiles.One(sp + p0, plane, srcCount, mp + d * srcCount, 0f, dp + (long)d * plane + p0, length, null, Design.Activation.None);
                    }
                }
            }
            return;
        }
        int count = Vector<float>.Count;
        ref float rs = ref MemoryMarshal.GetReference(src);
        ref float rd = ref MemoryMarshal.GetReference(dst);
        ref float rm = ref MemoryMarshal.GetReference(m);
        for (int p0 = 0; p0 < plane; p0 += Chunk)
        {
            int p1 = Math.Min(plane, p0 + Chunk);
            int d = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; d + 4 <= dstCount; d += 4)
                {
                    ref float m0 = ref Unsafe.Add(ref rm, d * srcCount);
                    ref float m1 = ref Unsafe.Add(ref m0, srcCount);
                    ref float m2 = ref Unsafe.Add(ref m1, srcCount);
                    ref float m3 = ref Unsafe.Add(ref m2, srcCount);
                    int p = p0;
                    for (; p <= p1 - count; p += count)
                    {
                        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
                        for (int j = 0; j < srcCount; j++)
                        {
                            var v = Vector.LoadUnsafe(ref rs, (nuint)(j * plane + p));
                            a0 += new Vector<float>(Unsafe.Add(ref m0, j)) * v;
                            a1 += new Vector<float>(Unsafe.Add(ref m1, j)) * v;
                            a2 += new Vector<float>(Unsafe.Add(ref m2, j)) * v;
                            a3 += new Vector<float>(Unsafe.Add(ref m3, j)) * v;
                        }
                        a0.StoreUnsafe(ref rd, (nuint)(d * plane + p));
                        a1.StoreUnsafe(ref rd, (nuint)((d + 1) * plane + p));
                        a2.StoreUnsafe(ref rd, (nuint)((d + 2) * plane + p));
                        a3.StoreUnsafe(ref rd, (nuint)((d + 3) * plane + p));
                    }
                    for (int e = d; e < d + 4; e++) MixScalar(src, srcCount, dst, m, plane, e, p, p1);
                }
            }
            for (; d < dstCount; d++)
            {
                var md = m.Slice(d * srcCount, srcCount);
                int p = p0;
                if (Vector.IsHardwareAccelerated)
                {
                    for (; p <= p1 - count; p += count)
                    {
                        var acc = Vector<float>.Zero;
                        for (int j = 0; j < srcCount; j++) acc += new Vector<float>(md[j]) * Vector.LoadUnsafe(ref rs, (nuint)(j * plane + p));
                        acc.StoreUnsafe(ref rd, (nuint)(d * plane + p));
                    }
                }
                MixScalar(src, srcCount, dst, m, plane, d, p, p1);
            }
        }
    }

    /// <summary>The scalar tail of <see cref="Mix"/>: destination plane d over pixels [p, p1).</summary>
    private static void MixScalar(ReadOnlySpan<float> src, int srcCount, Span<float> dst, ReadOnlySpan<float> m, int plane, int d, int p, int p1)
    {
        var md = m.Slice(d * srcCount, srcCount);
        for (; p < p1; p++)
        {
            float acc = 0f;
            for (int j = 0; j < srcCount; j++) acc += md[j] * src[j * plane + p];
            dst[d * plane + p] = acc;
        }
    }

    public static void ForwardOnHost(ConvGeometry g, Buf x, Buf w, Buf y)
    {
        int planeIn = g.H * g.W;
        int planeOut = g.Ho * g.Wo;
        int k = g.K;
        if (k == 3 && g.Stride == 2)
        {
            Conv3x3Stride2.Forward(g, x, w, y);
            return;
        }
        var zeros = new float[g.W];
        if (k == 1 && g.Stride == 1)
        {
            // w [Cout, Cig] is already the branch's dst-by-src matrix.
            HostKernels.ForPlanes(g.N * g.Groups, (long)g.Cig * g.Cog * planeIn, item =>
            {
                int branch = item % g.Groups;
                int s = item / g.Groups;
                Mix(x.Slice((s * g.Cin + branch * g.Cig) * planeIn, g.Cig * planeIn), g.Cig,
                    y.Slice((s * g.Cout + branch * g.Cog) * planeIn, g.Cog * planeIn), g.Cog,
                    w.Slice(branch * g.Cog * g.Cig, g.Cog * g.Cig), planeIn);
            });
            return;
        }
        if (k == 3 && g.Stride == 1 && g.W >= 8 && Fma.IsSupported)
        {
            // Conv3x3Tiles (shared with the fused inference blocks): the branch's input planes in order, two rows at a time.
            HostKernels.ForPlanes(g.N * g.Cout, (long)g.Cig * 9 * planeOut, item =>
            {
                int co = item % g.Cout;
                int s = item / g.Cout;
                int branch = co / g.Cog;
                Conv3x3Tiles.Plane(x.Pointer + (long)(s * g.Cin + branch * g.Cig) * planeIn, g.Cig, planeIn,
                    w.Pointer + (long)co * g.Cig * 9, 9, y.Pointer + (long)item * planeOut, g.H, g.W);
            });
            return;
        }
        HostKernels.ForPlanes(g.N * g.Cout, (long)g.Cig * k * k * planeOut, item =>
        {
            int co = item % g.Cout;
            int s = item / g.Cout;
            int branch = co / g.Cog;
            var yp = y.Slice(item * planeOut, planeOut);
            yp.Clear();
            var ws = w.Span;
            for (int cil = 0; cil < g.Cig; cil++)
            {
                var xp = x.Slice((s * g.Cin + branch * g.Cig + cil) * planeIn, planeIn);
                int wBase = (co * g.Cig + cil) * k * k;
                if (k == 1 && g.Stride == 1)
                {
                    HostKernels.Axpy(ws[wBase], xp, yp);
                    continue;
                }
                if (k == 3 && g.Stride == 1)
                {
                    Plane3x3(yp, xp, g.H, g.W, ws.Slice(wBase, 9), zeros);
                    continue;
                }
                for (int ky = 0; ky < k; ky++)
                {
                    int offY = ky - g.Pad;
                    int oy0 = ConvGeometry.RangeStart(offY, g.Stride);
                    int oy1 = ConvGeometry.RangeEnd(offY, g.Stride, g.H, g.Ho);
                    for (int kx = 0; kx < k; kx++)
                    {
                        float wv = ws[wBase + ky * k + kx];
                        int offX = kx - g.Pad;
                        int ox0 = ConvGeometry.RangeStart(offX, g.Stride);
                        int ox1 = ConvGeometry.RangeEnd(offX, g.Stride, g.W, g.Wo);
                        int len = ox1 - ox0;
                        if (len <= 0) continue;
                        for (int oy = oy0; oy < oy1; oy++)
                        {
                            int xRow = (oy * g.Stride + offY) * g.W;
                            var yRow = yp.Slice(oy * g.Wo + ox0, len);
                            if (g.Stride == 1)
                            {
                                HostKernels.Axpy(wv, xp.Slice(xRow + ox0 + offX, len), yRow);
                            }
                            else
                            {
                                int ix = xRow + ox0 * g.Stride + offX;
                                for (int j = 0; j < len; j++, ix += g.Stride) yRow[j] += wv * xp[ix];
                            }
                        }
                    }
                }
            }
        });
    }

    public static void BackwardInputOnHost(ConvGeometry g, Buf gy, Buf w, Buf gx)
    {
        int planeIn = g.H * g.W;
        int planeOut = g.Ho * g.Wo;
        int k = g.K;
        if (k == 3 && g.Stride == 2)
        {
            Conv3x3Stride2.BackwardInput(g, gy, w, gx);
            return;
        }
        var zeros = new float[g.W];
        float[] flipped = [];
        if (k == 3 && g.Stride == 1)
        {
            var wAll = w.Span;
            flipped = new float[wAll.Length];
            for (int i = 0; i < flipped.Length; i += 9)
            {
                for (int t = 0; t < 9; t++) flipped[i + t] = wAll[i + 8 - t];
            }
        }
        if (k == 1 && g.Stride == 1)
        {
            var transposed = Transposed(g, w);
            HostKernels.ForPlanes(g.N * g.Groups, (long)g.Cig * g.Cog * planeIn, item =>
            {
                int branch = item % g.Groups;
                int s = item / g.Groups;
                Mix(gy.Slice((s * g.Cout + branch * g.Cog) * planeIn, g.Cog * planeIn), g.Cog,
                    gx.Slice((s * g.Cin + branch * g.Cig) * planeIn, g.Cig * planeIn), g.Cig,
                    transposed.AsSpan(branch * g.Cog * g.Cig, g.Cog * g.Cig), planeIn);
            });
            return;
        }
        if (k == 3 && g.Stride == 1 && g.W >= 8 && Fma.IsSupported)
        {
            // gx[ci] = sum over the branch's outputs of gy[co] convolved with w[co, ci] rotated by 180 degrees (Conv3x3Tiles).
            fixed (float* rotated = flipped)
            {
                var r = rotated;
                HostKernels.ForPlanes(g.N * g.Cin, (long)g.Cog * 9 * planeOut, item =>
                {
                    int ci = item % g.Cin;
                    int s = item / g.Cin;
                    int branch = ci / g.Cig;
                    int cil = ci - branch * g.Cig;
                    Conv3x3Tiles.Plane(gy.Pointer + (long)(s * g.Cout + branch * g.Cog) * planeOut, g.Cog, planeOut,
                        r + (long)(branch * g.Cog * g.Cig + cil) * 9, g.Cig * 9, gx.Pointer + (long)item * planeIn, g.H, g.W);
                });
            }
            return;
        }
        HostKernels.ForPlanes(g.N * g.Cin, (long)g.Cog * k * k * planeOut, item =>
        {
            int ci = item % g.Cin;
            int s = item / g.Cin;
            int branch = ci / g.Cig;
            int cil = ci - branch * g.Cig;
            var gxp = gx.Slice(item * planeIn, planeIn);
            gxp.Clear();
            var ws = w.Span;
            for (int col = 0; col < g.Cog; col++)
            {
                int co = branch * g.Cog + col;
                var gyp = gy.Slice((s * g.Cout + co) * planeOut, planeOut);
                int wBase = (co * g.Cig + cil) * k * k;
                if (k == 1 && g.Stride == 1)
                {
                    HostKernels.Axpy(ws[wBase], gyp, gxp);
                    continue;
                }
                if (k == 3 && g.Stride == 1)
                {
                    // gx[iy, ix] += sum over ky, kx of w[ky, kx] gy[iy + 1 - ky, ix + 1 - kx]: the same
                    // convolution with the kernel rotated by 180 degrees.
                    Plane3x3(gxp, gyp, g.H, g.W, flipped.AsSpan(wBase, 9), zeros);
                    continue;
                }
                for (int ky = 0; ky < k; ky++)
                {
                    int offY = ky - g.Pad;
                    int oy0 = ConvGeometry.RangeStart(offY, g.Stride);
                    int oy1 = ConvGeometry.RangeEnd(offY, g.Stride, g.H, g.Ho);
                    for (int kx = 0; kx < k; kx++)
                    {
                        float wv = ws[wBase + ky * k + kx];
                        int offX = kx - g.Pad;
                        int ox0 = ConvGeometry.RangeStart(offX, g.Stride);
                        int ox1 = ConvGeometry.RangeEnd(offX, g.Stride, g.W, g.Wo);
                        int len = ox1 - ox0;
                        if (len <= 0) continue;
                        for (int oy = oy0; oy < oy1; oy++)
                        {
                            int xRow = (oy * g.Stride + offY) * g.W;
                            var gyRow = gyp.Slice(oy * g.Wo + ox0, len);
                            if (g.Stride == 1)
                            {
                                HostKernels.Axpy(wv, gyRow, gxp.Slice(xRow + ox0 + offX, len));
                            }
                            else
                            {
                                int ix = xRow + ox0 * g.Stride + offX;
                                for (int j = 0; j < len; j++, ix += g.Stride) gxp[ix] += wv * gyRow[j];
                            }
                        }
                    }
                }
            }
        });
    }

    public static void BackwardWeightOnHost(ConvGeometry g, Buf x, Buf gy, Buf gw)
    {
        int planeIn = g.H * g.W;
        int planeOut = g.Ho * g.Wo;
        int k = g.K;
        if (k == 3 && g.Stride == 2)
        {
            Conv3x3Stride2.BackwardWeight(g, x, gy, gw);
            return;
        }
        if (k == 1 && g.Stride == 1)
        {
            PointwiseBackwardWeight(g, x, gy, gw, null);
            return;
        }
        // One worker owns the k*k weights of one (output channel, branch input) pair.
        HostKernels.ForPlanes(g.Cout * g.Cig, (long)g.N * k * k * planeOut, item =>
        {
            int cil = item % g.Cig;
            int co = item / g.Cig;
            int ci = (co / g.Cog) * g.Cig + cil;
            var gws = gw.Slice(item * k * k, k * k);
            if (k == 3 && g.Stride == 1)
            {
                // Per vertical tap, the valid rows run as one flat span (vectors fill even on narrow planes);
                // the products that wrapped across row ends are subtracted afterwards.
                for (int ky = 0; ky < 3; ky++)
                {
                    double a = 0, b = 0, c = 0;
                    int oy0 = Math.Max(0, 1 - ky), oy1 = Math.Min(g.H, g.H + 1 - ky);
                    int length = (oy1 - oy0) * g.W;
                    for (int s = 0; s < g.N && length > 0; s++)
                    {
                        var gyRun = gy.Slice((s * g.Cout + co) * planeOut + oy0 * g.W, length);
                        var xRun = x.Slice((s * g.Cin + ci) * planeIn + (oy0 + ky - 1) * g.W, length);
                        RowDot3(gyRun, xRun, ref a, ref b, ref c);
                        for (int i = g.W; i < length; i += g.W)
                        {
                            a -= gyRun[i] * xRun[i - 1];
                            c -= gyRun[i - 1] * xRun[i];
                        }
                    }
                    gws[ky * 3] = (float)a;
                    gws[ky * 3 + 1] = (float)b;
                    gws[ky * 3 + 2] = (float)c;
                }
                return;
            }
            for (int ky = 0; ky < k; ky++)
            {
                int offY = ky - g.Pad;
                int oy0 = ConvGeometry.RangeStart(offY, g.Stride);
                int oy1 = ConvGeometry.RangeEnd(offY, g.Stride, g.H, g.Ho);
                for (int kx = 0; kx < k; kx++)
                {
                    int offX = kx - g.Pad;
                    int ox0 = ConvGeometry.RangeStart(offX, g.Stride);
                    int ox1 = ConvGeometry.RangeEnd(offX, g.Stride, g.W, g.Wo);
                    int len = ox1 - ox0;
                    double sum = 0.0;
                    for (int s = 0; s < g.N && len > 0; s++)
                    {
                        var xp = x.Slice((s * g.Cin + ci) * planeIn, planeIn);
                        var gyp = gy.Slice((s * g.Cout + co) * planeOut, planeOut);
                        if (k == 1 && g.Stride == 1)
                        {
                            sum += HostKernels.Dot(xp, gyp);
                            continue;
                        }
                        for (int oy = oy0; oy < oy1; oy++)
                        {
                            int xRow = (oy * g.Stride + offY) * g.W;
                            var gyRow = gyp.Slice(oy * g.Wo + ox0, len);
                            if (g.Stride == 1)
                            {
                                sum += HostKernels.Dot(gyRow, xp.Slice(xRow + ox0 + offX, len));
                            }
                            else
                            {
                                float row = 0f;
                                int ix = xRow + ox0 * g.Stride + offX;
                                for (int j = 0; j < len; j++, ix += g.Stride) row += gyRow[j] * xp[ix];
                                sum += row;
                            }
                        }
                    }
                    gws[ky * k + kx] = (float)sum;
                }
            }
        });
    }

    /// <summary>
    /// <see cref="BackwardWeightOnHost"/> of a 1x1 convolution whose input is P(BN(x)) (<see cref="Ops.BatchNormShuffleConv2dBackwardWeight"/>):
    /// each chunk of the input's rows is normalised into this thread's scratch first, as BN's forward rounds it
    /// (<see cref="BatchNorm.ScaleShift"/>: x * scale + shift), so the sums are the ones the stored input would give, bit for bit.
    /// </summary>
    public static void NormalizedBackwardWeightOnHost(ConvGeometry g, NormalizedInput input, Buf gy, Buf gw) =>
        PointwiseBackwardWeight(g, new Buf(input.X), gy, gw, InputNorm.Of(g.Cin, input));

    /// <summary>
    /// <see cref="ForwardOnHost"/> of a 1x1 convolution whose input is P(BN(x)) (<see cref="Ops.BatchNormShuffleConv2d"/>): each
    /// item forms its sample's branch input in this thread's scratch from x, as BN's forward rounds it, then mixes it as
    /// <see cref="ForwardOnHost"/> mixes the stored input, so y is the same bit for bit.
    /// </summary>
    public static void NormalizedForwardOnHost(ConvGeometry g, NormalizedInput input, Buf w, Buf y)
    {
        var norm = InputNorm.Of(g.Cin, input);
        var x = new Buf(input.X);
        int plane = g.H * g.W;
        HostKernels.ForPlanes(g.N * g.Groups, (long)g.Cig * g.Cog * plane, item =>
        {
            int branch = item % g.Groups;
            int s = item / g.Groups;
            var rows = ThreadScratch.For(g.Cig * plane).AsSpan(0, g.Cig * plane);
            norm.Rows(g, x, s, branch, 0, plane, rows, plane);
            Mix(rows, g.Cig, y.Slice((s * g.Cout + branch * g.Cog) * plane, g.Cog * plane), g.Cog, w.Slice(branch * g.Cog * g.Cig, g.Cog * g.Cig), plane);
        });
    }

    /// <summary>How a 1x1 convolution forms its input from x: input channel j = x[source[j]] * scale[j] + shift[j].</summary>
    private sealed record InputNorm(int[] Source, float[] Scale, float[] Shift)
    {
        /// <summary>P(BN(x)) with P's branches: channel j is BN's channel src(j), scaled and shifted as BatchNormTraining computes it (<see cref="BatchNormStatistics.ScaleShift"/>).</summary>
        public static InputNorm Of(int channels, NormalizedInput input)
        {
            var gamma = input.Gamma.HostSpan;
            var beta = input.Beta.HostSpan;
            var mean = input.SavedMean.HostSpan;
            var invStd = input.SavedInvStd.HostSpan;
            var source = new int[channels];
            var scale = new float[channels];
            var shift = new float[channels];
            for (int j = 0; j < channels; j++)
            {
                int c = Interleave.Source(j, channels, input.ShuffleGroups);
                source[j] = c;
                (scale[j], shift[j]) = BatchNormStatistics.ScaleShift(gamma[c], beta[c], mean[c], invStd[c]);
            }
            return new InputNorm(source, scale, shift);
        }

        /// <summary>
        /// Sample s's input rows of one branch, positions p0 .. p0 + length, into <paramref name="rows"/>
        /// (<paramref name="rowStride"/> apart), rounded as BN's forward rounds them (<see cref="BatchNorm.ScaleShift"/>).
        /// </summary>
        public void Rows(ConvGeometry g, Buf x, int s, int branch, int p0, int length, Span<float> rows, int rowStride)
        {
            int plane = g.H * g.W;
            for (int t = 0; t < g.Cig; t++)
            {
                int j = branch * g.Cig + t;
                BatchNorm.ScaleShift(x.Slice((s * g.Cin + Source[j]) * plane + p0, length), Scale[j], Shift[j], rows.Slice(t * rowStride, length));
            }
        }
    }

    /// <summary>gx = w^T gy per branch of a 1x1 convolution: each branch's [Cog, Cig] block of w transposed, once per call.</summary>
    private static float[] Transposed(ConvGeometry g, Buf w)
    {
        var transposed = new float[g.Cout * g.Cig];
        var ws = w.Span;
        for (int branch = 0; branch < g.Groups; branch++)
        for (int col = 0; col < g.Cog; col++)
        for (int cil = 0; cil < g.Cig; cil++)
        {
            transposed[branch * g.Cog * g.Cig + cil * g.Cog + col] = ws[(branch * g.Cog + col) * g.Cig + cil];
        }
        return transposed;
    }

    /// <summary>
    /// Whether a 1x1 convolution's two gradients run as one pass (<see cref="PointwiseBackward"/>): its work is split by
    /// branch, so it needs at least two branches a core; with fewer the two passes split finer. The 3x3 channel-wise W_1
    /// keeps its two passes: one worker a channel taking both gradients sample by sample measured 0.86-0.92x the two
    /// passes at 64 channels of 32x32 (1.0-1.15x on smaller maps), and taking its weight gradient's samples outermost
    /// 0.57-1.06x its taps outermost (the same bits), measured side by side in one process.
    /// </summary>
    public static bool FusesBackward(ConvGeometry g) => g.K == 1 && g.Stride == 1 && g.Groups >= 2 * Environment.ProcessorCount;

    /// <summary>
    /// Both gradients of a 1x1 convolution in one pass over gy (<see cref="Ops.Conv2dBackward"/>): the weight gradient of
    /// <see cref="PointwiseBackward"/> and, as each sample's gy rows of the branch sit in cache, gx = w^T gy mixed from them
    /// as <see cref="BackwardInputOnHost"/> mixes them, so both are the same bit for bit as the two passes.
    /// </summary>
    public static void PointwiseBackwardOnHost(ConvGeometry g, Buf x, Buf gy, Buf w, Buf gw, Buf gx) =>
        PointwiseBackward(g, x, gy, gw, Transposed(g, w), gx, null);

    /// <summary>As <see cref="PointwiseBackwardOnHost"/> for the input P(BN(x)) (<see cref="Ops.BatchNormShuffleConv2dBackward"/>).</summary>
    public static void NormalizedBackwardOnHost(ConvGeometry g, NormalizedInput input, Buf gy, Buf w, Buf gw, Buf gx) =>
        PointwiseBackward(g, new Buf(input.X), gy, gw, Transposed(g, w), gx, InputNorm.Of(g.Cin, input));

    private static void PointwiseBackwardWeight(ConvGeometry g, Buf x, Buf gy, Buf gw, InputNorm? norm) => PointwiseBackward(g, x, gy, gw, null, default, norm);

    /// <summary>
    /// The 1x1 weight gradient: one worker owns one branch's [Cog, Cig] block and walks samples and pixel chunks in a
    /// fixed order, so every gy and x chunk is read once per branch while it sits in L1. With <paramref name="norm"/>
    /// the branch's input rows of a chunk are formed from x in scratch first (the same values the stored input holds).
    /// With <paramref name="transposed"/> (w^T per branch) the worker also writes the branch's input gradient of each
    /// sample, from the gy rows the weight gradient has just read.
    /// </summary>
    private static void PointwiseBackward(ConvGeometry g, Buf x, Buf gy, Buf gw, float[]? transposed, Buf gx, InputNorm? norm)
    {
        int planeIn = g.H * g.W;
        HostKernels.ForPlanes(g.Groups, (long)g.N * g.Cog * g.Cig * planeIn * (transposed is null ? 1 : 2), branch =>
        {
            const int Chunk = 256;
            var sums = new double[g.Cog * g.Cig];
            var rows = norm is null ? null : ThreadScratch.For(g.Cig * Chunk);
            for (int s = 0; s < g.N; s++)
            {
                var gys = gy.Slice((s * g.Cout + branch * g.Cog) * planeIn, g.Cog * planeIn);
                for (int p0 = 0; p0 < planeIn; p0 += Chunk)
                {
                    int length = Math.Min(Chunk, planeIn - p0);
                    // The input's rows of this chunk: x itself (row stride planeIn from p0), or normalised into scratch (stride Chunk from 0).
                    ReadOnlySpan<float> xs;
                    int start, stride;
                    if (norm is null)
                    {
                        xs = x.Slice((s * g.Cin + branch * g.Cig) * planeIn, g.Cig * planeIn);
                        (start, stride) = (p0, planeIn);
                    }
                    else
                    {
                        norm.Rows(g, x, s, branch, p0, length, rows, Chunk);
                        xs = rows;
                        (start, stride) = (0, Chunk);
                    }
                    for (int col = 0; col < g.Cog; col++)
                    {
                        var gyChunk = gys.Slice(col * planeIn + p0, length);
                        int cil = 0;
                        for (; cil + 4 <= g.Cig; cil += 4)
                        {
                            Dot4(gyChunk, xs, cil * stride + start, stride, sums.AsSpan(col * g.Cig + cil, 4));
                        }
                        for (; cil < g.Cig; cil++)
                        {
                            sums[col * g.Cig + cil] += HostKernels.Dot(gyChunk, xs.Slice(cil * stride + start, length));
                        }
                    }
                }
                if (transposed is not null)
                {
                    Mix(gys, g.Cog, gx.Slice((s * g.Cin + branch * g.Cig) * planeIn, g.Cig * planeIn), g.Cig,
                        transposed.AsSpan(branch * g.Cog * g.Cig, g.Cog * g.Cig), planeIn);
                }
            }
            var gws = gw.Slice(branch * g.Cog * g.Cig, g.Cog * g.Cig);
            for (int i = 0; i < sums.Length; i++) gws[i] = (float)sums[i];
        });
    }
}
