using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Igcv2.Design;

namespace Igcv2.Kernels;

/// <summary>
/// A 3x3 stride-1 convolution of one channel into one output channel, from the channel's rows copied with a zero
/// border: two output rows at a time, each in two short FMA chains. Used by the fused inference blocks (W_1, the stem)
/// and by the training steps' 3x3 stride-1 convolutions (forward, and the input gradient with the kernel rotated).
/// </summary>
internal static class Conv3x3Tiles
{
    /// <summary>How one input channel's taps meet the output: start from the bias (the first) or add to it, and the activation in the store (the last).</summary>
    public readonly record struct Taps(bool First, Activation Activation);

    /// <summary>
    /// Copies rows [top, top + count) of one channel [height, width] into rows of width + 2 with a zero border (and
    /// zero rows outside the map).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void PadRows(float* channel, int height, int inWidth, int top, int count, float* pad)
    {
        var width = inWidth + 2;
        for (var r = 0; r < count; r++)
        {
            var row = pad + r * width;
            var source = top + r;
            if (source < 0 || source >= height)
            {
                Fill(row, width, 0f);
                continue;
            }
            row[0] = 0;
            row[width - 1] = 0;
            Copy(channel + source * inWidth, row + 1, inWidth);
        }
    }

    /// <summary>A short copy in whole vectors, the last one ending at the end (rows are a few vectors: a call to memmove cost more than the copy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Copy(float* from, float* to, int count)
    {
        if (count < 8)
        {
            for (var i = 0; i < count; i++) to[i] = from[i];
            return;
        }
        var j = 0;
        for (; j + 8 <= count; j += 8) Vector256.Load(from + j).Store(to + j);
        if (j < count) Vector256.Load(from + count - 8).Store(to + count - 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Fill(float* to, int count, float value)
    {
        if (count < 8)
        {
            for (var i = 0; i < count; i++) to[i] = value;
            return;
        }
        var v = Vector256.Create(value);
        var j = 0;
        for (; j + 8 <= count; j += 8) v.Store(to + j);
        if (j < count) v.Store(to + count - 8);
    }

    /// <summary>
    /// One input channel's 3x3 taps (stride 1) into one output channel over <paramref name="rows"/> rows, two
    /// output rows at a time: they share two of the four padded rows they read, so twelve loads feed eighteen
    /// FMAs in two independent chains.
    /// </summary>
    public static unsafe void Accumulate(float* pad, int width, float* w, float bias, Taps taps, float* y, int rows, int size)
    {
        var from = Lanes.Wide && size >= 16 ? AccumulateWide(pad, width, w, bias, taps, y, rows, size) : 0;
        if (from < size) AccumulateNarrow(pad, width, w, bias, taps, y, rows, size, from);
    }

    /// <summary>
    /// <see cref="Accumulate"/> over the columns [0, 16 * floor(size / 16)) in Vector512 (AVX-512), with the same row
    /// pairs and the same chains for each output as <see cref="AccumulateNarrow"/>; returns the first column left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int AccumulateWide(float* pad, int width, float* w, float bias, Taps taps, float* y, int rows, int size)
    {
        var w0 = Vector512.Create(w[0]); var w1 = Vector512.Create(w[1]); var w2 = Vector512.Create(w[2]);
        var w3 = Vector512.Create(w[3]); var w4 = Vector512.Create(w[4]); var w5 = Vector512.Create(w[5]);
        var w6 = Vector512.Create(w[6]); var w7 = Vector512.Create(w[7]); var w8 = Vector512.Create(w[8]);
        var start = Vector512.Create(bias);
        var columns = size & ~15;
        var r = 0;
        for (; r + 2 <= rows; r += 2)
        {
            float* p0 = pad + r * width, p1 = p0 + width, p2 = p1 + width, p3 = p2 + width, o0 = y + r * size, o1 = o0 + size;
            for (var c = 0; c < columns; c += 16)
            {
                var acc0 = taps.First ? start : Vector512.Load(o0 + c);
                var acc1 = taps.First ? start : Vector512.Load(o1 + c);
                var v = Vector512.Load(p0 + c);
                acc0 = Vector512.FusedMultiplyAdd(v, w0, acc0);
                v = Vector512.Load(p0 + c + 1);
                acc0 = Vector512.FusedMultiplyAdd(v, w1, acc0);
                v = Vector512.Load(p0 + c + 2);
                acc0 = Vector512.FusedMultiplyAdd(v, w2, acc0);
                v = Vector512.Load(p1 + c);
                acc0 = Vector512.FusedMultiplyAdd(v, w3, acc0);
                acc1 = Vector512.FusedMultiplyAdd(v, w0, acc1);
                v = Vector512.Load(p1 + c + 1);
                var more0 = v * w4;
                acc1 = Vector512.FusedMultiplyAdd(v, w1, acc1);
                v = Vector512.Load(p1 + c + 2);
                more0 = Vector512.FusedMultiplyAdd(v, w5, more0);
                acc1 = Vector512.FusedMultiplyAdd(v, w2, acc1);
                v = Vector512.Load(p2 + c);
                more0 = Vector512.FusedMultiplyAdd(v, w6, more0);
                acc1 = Vector512.FusedMultiplyAdd(v, w3, acc1);
                v = Vector512.Load(p2 + c + 1);
                more0 = Vector512.FusedMultiplyAdd(v, w7, more0);
                var more1 = v * w4;
                v = Vector512.Load(p2 + c + 2);
                more0 = Vector512.FusedMultiplyAdd(v, w8, more0);
                more1 = Vector512.FusedMultiplyAdd(v, w5, more1);
                v = Vector512.Load(p3 + c);
                more1 = Vector512.FusedMultiplyAdd(v, w6, more1);
                v = Vector512.Load(p3 + c + 1);
                more1 = Vector512.FusedMultiplyAdd(v, w7, more1);
                v = Vector512.Load(p3 + c + 2);
                more1 = Vector512.FusedMultiplyAdd(v, w8, more1);
                Activations.Apply(acc0 + more0, taps.Activation).Store(o0 + c);
                Activations.Apply(acc1 + more1, taps.Activation).Store(o1 + c);
            }
        }
        if (r < rows)
        {
            float* t = pad + r * width, m = t + width, u = m + width, o = y + r * size;
            for (var c = 0; c < columns; c += 16)
            {
                var acc = taps.First ? start : Vector512.Load(o + c);
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(t + c), w0, acc);
                var more = Vector512.Load(t + c + 1) * w1;
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(t + c + 2), w2, acc);
                more = Vector512.FusedMultiplyAdd(Vector512.Load(m + c), w3, more);
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(m + c + 1), w4, acc);
                more = Vector512.FusedMultiplyAdd(Vector512.Load(m + c + 2), w5, more);
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(u + c), w6, acc);
                more = Vector512.FusedMultiplyAdd(Vector512.Load(u + c + 1), w7, more);
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(u + c + 2), w8, acc);
                Activations.Apply(acc + more, taps.Activation).Store(o + c);
            }
        }
        return columns;
    }

    /// <summary><see cref="Accumulate"/> in Vector256 over the columns from <paramref name="from"/> (a multiple of 16, or 0) to the row's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AccumulateNarrow(float* pad, int width, float* w, float bias, Taps taps, float* y, int rows, int size, int from)
    {
        var w0 = Vector256.Create(w[0]); var w1 = Vector256.Create(w[1]); var w2 = Vector256.Create(w[2]);
        var w3 = Vector256.Create(w[3]); var w4 = Vector256.Create(w[4]); var w5 = Vector256.Create(w[5]);
        var w6 = Vector256.Create(w[6]); var w7 = Vector256.Create(w[7]); var w8 = Vector256.Create(w[8]);
        var start = Vector256.Create(bias);
        var r = 0;
        for (; r + 2 <= rows; r += 2)
        {
            float* p0 = pad + r * width, p1 = p0 + width, p2 = p1 + width, p3 = p2 + width, o0 = y + r * size, o1 = o0 + size;
            for (var c = from; c < size; c += 8)
            {
                // The last columns (all of them on maps narrower than 8) take one more vector, ending at the row's
                // end when it can, that stores only the lanes not done yet. Lanes past the row read and write back
                // what is there: the scratch has slack and belongs to this thread. On rows under 8 the first row's
                // vector reaches into the second, which is stored after it.
                var whole = c + 8 <= size;
                var c0 = whole ? c : Math.Max(0, size - 8);
                Vector256<float> old0 = default, old1 = default;
                if (!taps.First || !whole)
                {
                    old0 = Vector256.Load(o0 + c0);
                    old1 = Vector256.Load(o1 + c0);
                }
                // Each row sums in two chains of four or five FMAs, not one of nine: the FMA latency times a nine-long
                // chain was longer than the out-of-order window could cover.
                var acc0 = taps.First ? start : old0;
                var acc1 = taps.First ? start : old1;
                var v = Vector256.Load(p0 + c0);
                acc0 = Vector256.MultiplyAddEstimate(v, w0, acc0);
                v = Vector256.Load(p0 + c0 + 1);
                acc0 = Vector256.MultiplyAddEstimate(v, w1, acc0);
                v = Vector256.Load(p0 + c0 + 2);
                acc0 = Vector256.MultiplyAddEstimate(v, w2, acc0);
                v = Vector256.Load(p1 + c0);
                acc0 = Vector256.MultiplyAddEstimate(v, w3, acc0);
                acc1 = Vector256.MultiplyAddEstimate(v, w0, acc1);
                v = Vector256.Load(p1 + c0 + 1);
                var more0 = v * w4;
                acc1 = Vector256.MultiplyAddEstimate(v, w1, acc1);
                v = Vector256.Load(p1 + c0 + 2);
                more0 = Vector256.MultiplyAddEstimate(v, w5, more0);
                acc1 = Vector256.MultiplyAddEstimate(v, w2, acc1);
                v = Vector256.Load(p2 + c0);
                more0 = Vector256.MultiplyAddEstimate(v, w6, more0);
                acc1 = Vector256.MultiplyAddEstimate(v, w3, acc1);
                v = Vector256.Load(p2 + c0 + 1);
                more0 = Vector256.MultiplyAddEstimate(v, w7, more0);
                var more1 = v * w4;
                v = Vector256.Load(p2 + c0 + 2);
                more0 = Vector256.MultiplyAddEstimate(v, w8, more0);
                more1 = Vector256.MultiplyAddEstimate(v, w5, more1);
                v = Vector256.Load(p3 + c0);
                more1 = Vector256.MultiplyAddEstimate(v, w6, more1);
                v = Vector256.Load(p3 + c0 + 1);
                more1 = Vector256.MultiplyAddEstimate(v, w7, more1);
                v = Vector256.Load(p3 + c0 + 2);
                more1 = Vector256.MultiplyAddEstimate(v, w8, more1);
                acc0 += more0;
                acc1 += more1;
                acc0 = Activations.Apply(acc0, taps.Activation);
                acc1 = Activations.Apply(acc1, taps.Activation);
                if (whole)
                {
                    acc0.Store(o0 + c0);
                    acc1.Store(o1 + c0);
                    continue;
                }
                var mask = Lanes.Last(c - c0, size - c0);
                Vector256.ConditionalSelect(mask, acc0, old0).Store(o0 + c0);
                Vector256.ConditionalSelect(mask, acc1, old1).Store(o1 + c0);
            }
        }
        if (r == rows) return;
        {
            float* t = pad + r * width, m = t + width, u = m + width, o = y + r * size;
            for (var c = from; c < size; c += 8)
            {
                var whole = c + 8 <= size;
                var c0 = whole ? c : Math.Max(0, size - 8);
                var old = taps.First && whole ? default : Vector256.Load(o + c0);
                var acc = taps.First ? start : old;
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(t + c0), w0, acc);
                var more = Vector256.Load(t + c0 + 1) * w1;
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(t + c0 + 2), w2, acc);
                more = Vector256.MultiplyAddEstimate(Vector256.Load(m + c0), w3, more);
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(m + c0 + 1), w4, acc);
                more = Vector256.MultiplyAddEstimate(Vector256.Load(m + c0 + 2), w5, more);
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(u + c0), w6, acc);
                more = Vector256.MultiplyAddEstimate(Vector256.Load(u + c0 + 1), w7, more);
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(u + c0 + 2), w8, acc);
                acc = Activations.Apply(acc + more, taps.Activation);
                if (whole)
                {
                    acc.Store(o + c0);
                    continue;
                }
                Vector256.ConditionalSelect(Lanes.Last(c - c0, size - c0), acc, old).Store(o + c0);
            }
        }
    }

    /// <summary>
    /// For stride 2: rows [top, top + count) of one channel [height, inWidth], each split by
    /// <see cref="Conv3x3Stride2.SplitRow"/> (the training steps' split: E[j] = x[2j], then O[j] = x[2j - 1] with O[0]
    /// the left border, <see cref="Conv3x3Stride2.SplitStride"/> floats a row), zero rows outside the map. Output
    /// column c reads x[2c - 1], x[2c], x[2c + 1] = O[c], E[c], O[c + 1]: three contiguous loads for eight outputs.
    /// A row whose vectors would pass the plane's end is split from a copy in the 2 * (Wo rounded up) floats after
    /// the split rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void PadRowsSplit(float* channel, int height, int inWidth, int top, int count, float* pad, int outSize)
    {
        int stride = Conv3x3Stride2.SplitStride(outSize), padded = Conv3x3Stride2.SplitPadded(outSize), plane = height * inWidth;
        var rowBuffer = pad + count * stride;
        for (var r = 0; r < count; r++)
        {
            var source = top + r;
            if (source < 0 || source >= height)
            {
                Fill(pad + r * stride, stride, 0f);
                continue;
            }
            Conv3x3Stride2.SplitRow(channel + source * inWidth, inWidth, source * inWidth + 2 * padded <= plane, padded, rowBuffer, pad + r * stride);
        }
    }

    /// <summary>
    /// One input channel's 3x3 taps at stride 2 into one output channel over <paramref name="rows"/> rows, from rows
    /// split by <see cref="PadRowsSplit"/>: per output vector nine contiguous loads and three FMA chains of three. The
    /// last columns take a masked vector as in <see cref="Accumulate"/>.
    /// </summary>
    public static unsafe void AccumulateStride2(float* pad, float* w, float bias, Taps taps, float* y, int rows, int size)
    {
        var from = Lanes.Wide && size >= 16 ? AccumulateStride2Wide(pad, w, bias, taps, y, rows, size) : 0;
        if (from < size) AccumulateStride2Narrow(pad, w, bias, taps, y, rows, size, from);
    }

    /// <summary>
    /// <see cref="AccumulateStride2"/> over the columns [0, 16 * floor(size / 16)) in Vector512, each output's three
    /// chains as in <see cref="AccumulateStride2Narrow"/>; returns the first column left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int AccumulateStride2Wide(float* pad, float* w, float bias, Taps taps, float* y, int rows, int size)
    {
        var w0 = Vector512.Create(w[0]); var w1 = Vector512.Create(w[1]); var w2 = Vector512.Create(w[2]);
        var w3 = Vector512.Create(w[3]); var w4 = Vector512.Create(w[4]); var w5 = Vector512.Create(w[5]);
        var w6 = Vector512.Create(w[6]); var w7 = Vector512.Create(w[7]); var w8 = Vector512.Create(w[8]);
        var start = Vector512.Create(bias);
        int rowFloats = Conv3x3Stride2.SplitStride(size), odd = Conv3x3Stride2.SplitPadded(size), columns = size & ~15;
        for (var r = 0; r < rows; r++)
        {
            float* t = pad + 2 * r * rowFloats, m = t + rowFloats, u = m + rowFloats, o = y + r * size;
            for (var c = 0; c < columns; c += 16)
            {
                var acc = taps.First ? start : Vector512.Load(o + c);
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(t + odd + c), w0, acc);
                var more = Vector512.Load(t + c) * w1;
                var third = Vector512.Load(t + odd + c + 1) * w2;
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(m + odd + c), w3, acc);
                more = Vector512.FusedMultiplyAdd(Vector512.Load(m + c), w4, more);
                third = Vector512.FusedMultiplyAdd(Vector512.Load(m + odd + c + 1), w5, third);
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(u + odd + c), w6, acc);
                more = Vector512.FusedMultiplyAdd(Vector512.Load(u + c), w7, more);
                third = Vector512.FusedMultiplyAdd(Vector512.Load(u + odd + c + 1), w8, third);
                Activations.Apply(acc + more + third, taps.Activation).Store(o + c);
            }
        }
        return columns;
    }

    /// <summary><see cref="AccumulateStride2"/> in Vector256 over the columns from <paramref name="from"/> (a multiple of 16, or 0) to the row's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AccumulateStride2Narrow(float* pad, float* w, float bias, Taps taps, float* y, int rows, int size, int from)
    {
        var w0 = Vector256.Create(w[0]); var w1 = Vector256.Create(w[1]); var w2 = Vector256.Create(w[2]);
        var w3 = Vector256.Create(w[3]); var w4 = Vector256.Create(w[4]); var w5 = Vector256.Create(w[5]);
        var w6 = Vector256.Create(w[6]); var w7 = Vector256.Create(w[7]); var w8 = Vector256.Create(w[8]);
        var start = Vector256.Create(bias);
        int rowFloats = Conv3x3Stride2.SplitStride(size), odd = Conv3x3Stride2.SplitPadded(size);
        for (var r = 0; r < rows; r++)
        {
            // Each split row: E (x[2c]) first, O (x[2c - 1], the border at O[0]) after it.
            float* t = pad + 2 * r * rowFloats, m = t + rowFloats, u = m + rowFloats, o = y + r * size;
            for (var c = from; c < size; c += 8)
            {
                var whole = c + 8 <= size;
                var c0 = whole ? c : Math.Max(0, size - 8);
                var old = taps.First && whole ? default : Vector256.Load(o + c0);
                var acc = taps.First ? start : old;
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(t + odd + c0), w0, acc);
                var more = Vector256.Load(t + c0) * w1;
                var third = Vector256.Load(t + odd + c0 + 1) * w2;
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(m + odd + c0), w3, acc);
                more = Vector256.MultiplyAddEstimate(Vector256.Load(m + c0), w4, more);
                third = Vector256.MultiplyAddEstimate(Vector256.Load(m + odd + c0 + 1), w5, third);
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(u + odd + c0), w6, acc);
                more = Vector256.MultiplyAddEstimate(Vector256.Load(u + c0), w7, more);
                third = Vector256.MultiplyAddEstimate(Vector256.Load(u + odd + c0 + 1), w8, third);
                acc = Activations.Apply(acc + more + third, taps.Activation);
                if (whole)
                {
                    acc.Store(o + c0);
                    continue;
                }
                Vector256.ConditionalSelect(Lanes.Last(c - c0, size - c0), acc, old).Store(o + c0);
            }
        }
    }

    /// <summary>
    /// y [h, width] = sum over the <paramref name="channels"/> planes of x (<paramref name="xStride"/> apart) of each
    /// plane 3x3-convolved (stride 1, padding 1) with its 9 taps (<paramref name="wStride"/> apart), each output adding
    /// its channels in order. Rows of 8 or more only (a row's vectors stay in it: the next plane may be another thread's).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Plane(float* x, int channels, int xStride, float* w, int wStride, float* y, int h, int width)
    {
        if (width < 8) throw new ArgumentOutOfRangeException(nameof(width), width, "Conv3x3Tiles.Plane needs rows of at least 8.");
        var scratch = ThreadScratch.For((h + 2) * (width + 2) + 32);
        fixed (float* pad = scratch)
        {
            for (var i = 0; i < channels; i++)
            {
                PadRows(x + (long)i * xStride, h, width, -1, h + 2, pad);
                Accumulate(pad, width + 2, w + (long)i * wStride, 0f, new Taps(i == 0, Activation.None), y, h, width);
            }
        }
    }
}
