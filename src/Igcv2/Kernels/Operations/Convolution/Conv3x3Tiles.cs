using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Igcv2.Design;

namespace Igcv2.Kernels;

/// <summary>
/// A 3x3 stride-1 convolution of one channel into one output channel, from the channel's rows copied with a zero
/// border: two output rows at a time, each in two short FMA chains. Used by the fused inference blocks (W_1, the stem)
/// and by the training steps' 3x3 stride-1 convolutions (forward, and the input gradient with the kernel rotated).
/// Where <see cref="Lanes.Wide"/>, the same chains run in Vector512 on the channel's rows in place
/// (<see cref="AccumulateDirect"/>, <see cref="AccumulateStride2Direct"/>): AVX-512's masked loads read the border as
/// zeros, so nothing is copied, and a masked store ends each row, so no vector reaches past it.
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Accumulate(float* pad, int width, float* w, float bias, Taps taps, float* y, int rows, int size)
    {
        var w0 = Vector256.Create(w[0]); var w1 = Vector256.Create(w[1]); var w2 = Vector256.Create(w[2]);
        var w3 = Vector256.Create(w[3]); var w4 = Vector256.Create(w[4]); var w5 = Vector256.Create(w[5]);
        var w6 = Vector256.Create(w[6]); var w7 = Vector256.Create(w[7]); var w8 = Vector256.Create(w[8]);
        var start = Vector256.Create(bias);
        var r = 0;
        for (; r + 2 <= rows; r += 2)
        {
            float* p0 = pad + r * width, p1 = p0 + width, p2 = p1 + width, p3 = p2 + width, o0 = y + r * size, o1 = o0 + size;
            for (var c = 0; c < size; c += 8)
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
            for (var c = 0; c < size; c += 8)
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void AccumulateStride2(float* pad, float* w, float bias, Taps taps, float* y, int rows, int size)
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
            for (var c = 0; c < size; c += 8)
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
    /// <see cref="Accumulate"/> in Vector512 (<see cref="Lanes.Wide"/>) from the channel itself: output rows
    /// [0, rows) read the rows top, top + 1, ... of <paramref name="channel"/> [height, size] (<paramref name="zeros"/>,
    /// at least size zeros, for the rows outside the map), and the columns -1 and size read as zeros. The same row
    /// pairs and each output's FMAs in the same order as <see cref="Accumulate"/> on the padded copy, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void AccumulateDirect(float* channel, int height, int top, float* zeros, float* w, float bias, Taps taps, float* y, int rows, int size)
    {
        var w0 = Vector512.Create(w[0]); var w1 = Vector512.Create(w[1]); var w2 = Vector512.Create(w[2]);
        var w3 = Vector512.Create(w[3]); var w4 = Vector512.Create(w[4]); var w5 = Vector512.Create(w[5]);
        var w6 = Vector512.Create(w[6]); var w7 = Vector512.Create(w[7]); var w8 = Vector512.Create(w[8]);
        var start = Vector512.Create(bias);
        // Column by column, down the rows: each vector's masks are made once for all its rows.
        for (var c = 0; c < size; c += 16)
        {
            // The taps left of, at and right of each output column: x[c - 1 + l], x[c + l], x[c + 1 + l].
            Vector512<float> left = Lanes.Within(c - 1, size), at = Lanes.Within(c, size), right = Lanes.Within(c + 1, size);
            var r = 0;
            for (; r + 2 <= rows; r += 2)
            {
                float* p0 = Row(channel, height, size, top + r, zeros), p1 = Row(channel, height, size, top + r + 1, zeros);
                float* p2 = Row(channel, height, size, top + r + 2, zeros), p3 = Row(channel, height, size, top + r + 3, zeros);
                float* o0 = y + r * size, o1 = o0 + size;
                var acc0 = taps.First ? start : Lanes.Load(o0 + c, at);
                var acc1 = taps.First ? start : Lanes.Load(o1 + c, at);
                var v = Lanes.Load(p0 + c - 1, left);
                acc0 = Vector512.FusedMultiplyAdd(v, w0, acc0);
                v = Lanes.Load(p0 + c, at);
                acc0 = Vector512.FusedMultiplyAdd(v, w1, acc0);
                v = Lanes.Load(p0 + c + 1, right);
                acc0 = Vector512.FusedMultiplyAdd(v, w2, acc0);
                v = Lanes.Load(p1 + c - 1, left);
                acc0 = Vector512.FusedMultiplyAdd(v, w3, acc0);
                acc1 = Vector512.FusedMultiplyAdd(v, w0, acc1);
                v = Lanes.Load(p1 + c, at);
                var more0 = v * w4;
                acc1 = Vector512.FusedMultiplyAdd(v, w1, acc1);
                v = Lanes.Load(p1 + c + 1, right);
                more0 = Vector512.FusedMultiplyAdd(v, w5, more0);
                acc1 = Vector512.FusedMultiplyAdd(v, w2, acc1);
                v = Lanes.Load(p2 + c - 1, left);
                more0 = Vector512.FusedMultiplyAdd(v, w6, more0);
                acc1 = Vector512.FusedMultiplyAdd(v, w3, acc1);
                v = Lanes.Load(p2 + c, at);
                more0 = Vector512.FusedMultiplyAdd(v, w7, more0);
                var more1 = v * w4;
                v = Lanes.Load(p2 + c + 1, right);
                more0 = Vector512.FusedMultiplyAdd(v, w8, more0);
                more1 = Vector512.FusedMultiplyAdd(v, w5, more1);
                v = Lanes.Load(p3 + c - 1, left);
                more1 = Vector512.FusedMultiplyAdd(v, w6, more1);
                v = Lanes.Load(p3 + c, at);
                more1 = Vector512.FusedMultiplyAdd(v, w7, more1);
                v = Lanes.Load(p3 + c + 1, right);
                more1 = Vector512.FusedMultiplyAdd(v, w8, more1);
                Lanes.Store(Activations.Apply(acc0 + more0, taps.Activation), o0 + c, at);
                Lanes.Store(Activations.Apply(acc1 + more1, taps.Activation), o1 + c, at);
            }
            if (r < rows)
            {
                float* t = Row(channel, height, size, top + r, zeros), m = Row(channel, height, size, top + r + 1, zeros);
                float* u = Row(channel, height, size, top + r + 2, zeros), o = y + r * size;
                var acc = taps.First ? start : Lanes.Load(o + c, at);
                acc = Vector512.FusedMultiplyAdd(Lanes.Load(t + c - 1, left), w0, acc);
                var more = Lanes.Load(t + c, at) * w1;
                acc = Vector512.FusedMultiplyAdd(Lanes.Load(t + c + 1, right), w2, acc);
                more = Vector512.FusedMultiplyAdd(Lanes.Load(m + c - 1, left), w3, more);
                acc = Vector512.FusedMultiplyAdd(Lanes.Load(m + c, at), w4, acc);
                more = Vector512.FusedMultiplyAdd(Lanes.Load(m + c + 1, right), w5, more);
                acc = Vector512.FusedMultiplyAdd(Lanes.Load(u + c - 1, left), w6, acc);
                more = Vector512.FusedMultiplyAdd(Lanes.Load(u + c, at), w7, more);
                acc = Vector512.FusedMultiplyAdd(Lanes.Load(u + c + 1, right), w8, acc);
                Lanes.Store(Activations.Apply(acc + more, taps.Activation), o + c, at);
            }
        }
    }

    /// <summary>
    /// <see cref="AccumulateStride2"/> in Vector512 (<see cref="Lanes.Wide"/>) from the channel itself: output row r reads
    /// rows top + 2r, top + 2r + 1, top + 2r + 2 of <paramref name="channel"/> [height, inWidth] (<paramref name="zeros"/>
    /// outside the map). Output column c's taps x[2c - 1], x[2c], x[2c + 1] come from two windows of 32 columns (from
    /// 2c - 1 and from 2c + 1, each two masked loads of 16) and three of AVX-512's two-vector permutes (even and odd
    /// lanes), the columns -1 and past the row read as zeros: the split rows' values, so each output's three chains
    /// give <see cref="AccumulateStride2"/>'s bits. Each input row is split once for the two output rows that read it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void AccumulateStride2Direct(float* channel, int height, int inWidth, int top, float* zeros, float* w, float bias, Taps taps,
        float* y, int rows, int size)
    {
        var w0 = Vector512.Create(w[0]); var w1 = Vector512.Create(w[1]); var w2 = Vector512.Create(w[2]);
        var w3 = Vector512.Create(w[3]); var w4 = Vector512.Create(w[4]); var w5 = Vector512.Create(w[5]);
        var w6 = Vector512.Create(w[6]); var w7 = Vector512.Create(w[7]); var w8 = Vector512.Create(w[8]);
        var start = Vector512.Create(bias);
        // Column by column, down the rows: output row r's last input row is row r + 1's first, split once for both.
        for (var c = 0; c < size; c += 16)
        {
            var taps16 = new Stride2Taps(2 * c - 1, inWidth);
            var at = Lanes.Within(c, size);
            taps16.Split(Row(channel, height, inWidth, top, zeros), out var tl, out var tm, out var tr);
            for (var r = 0; r < rows; r++)
            {
                var o = y + r * size + c;
                var acc = taps.First ? start : Lanes.Load(o, at);
                acc = Vector512.FusedMultiplyAdd(tl, w0, acc);
                var more = tm * w1;
                var third = tr * w2;
                taps16.Split(Row(channel, height, inWidth, top + 2 * r + 1, zeros), out var left, out var middle, out var right);
                acc = Vector512.FusedMultiplyAdd(left, w3, acc);
                more = Vector512.FusedMultiplyAdd(middle, w4, more);
                third = Vector512.FusedMultiplyAdd(right, w5, third);
                taps16.Split(Row(channel, height, inWidth, top + 2 * r + 2, zeros), out tl, out tm, out tr);
                acc = Vector512.FusedMultiplyAdd(tl, w6, acc);
                more = Vector512.FusedMultiplyAdd(tm, w7, more);
                third = Vector512.FusedMultiplyAdd(tr, w8, third);
                Lanes.Store(Activations.Apply(acc + more + third, taps.Activation), o, at);
            }
        }
    }

    /// <summary>
    /// For 16 stride-2 outputs whose first reads column <c>first</c> = 2c - 1: the masks of the 32 columns from it and from
    /// first + 2 within a row of <c>width</c>.
    /// </summary>
    private readonly struct Stride2Taps(int first, int width)
    {
        private readonly int first = first;
        private readonly Vector512<float> low = Lanes.Within(first, width), high = Lanes.Within(first + 16, width);
        private readonly Vector512<float> lowRight = Lanes.Within(first + 2, width), highRight = Lanes.Within(first + 18, width);

        /// <summary>x[2c - 1 + 2l], x[2c + 2l] and x[2c + 1 + 2l] of one row, zeros outside it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Split(float* row, out Vector512<float> left, out Vector512<float> middle, out Vector512<float> right)
        {
            // The lane indices as constants in the code (static readonly fields are loads in methods that skip tiering).
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            var a = Lanes.Load(row + first, low);
            var b = Lanes.Load(row + first + 16, high);
            left = Avx512F.PermuteVar16x32x2(a, evens, b);
            middle = Avx512F.PermuteVar16x32x2(a, odds, b);
            right = Avx512F.PermuteVar16x32x2(Lanes.Load(row + first + 2, lowRight), evens, Lanes.Load(row + first + 18, highRight));
        }
    }

    /// <summary>Row <paramref name="row"/> of a channel [height, width], or the zeros for a row outside it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float* Row(float* channel, int height, int width, int row, float* zeros) =>
        row < 0 || row >= height ? zeros : channel + (long)row * width;

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
            if (Lanes.Wide)
            {
                // The planes in place, the scratch only the zeros for the rows above and below.
                Fill(pad, width, 0f);
                for (var i = 0; i < channels; i++)
                {
                    AccumulateDirect(x + (long)i * xStride, h, -1, pad, w + (long)i * wStride, 0f, new Taps(i == 0, Activation.None), y, h, width);
                }
                return;
            }
            for (var i = 0; i < channels; i++)
            {
                PadRows(x + (long)i * xStride, h, width, -1, h + 2, pad);
                Accumulate(pad, width + 2, w + (long)i * wStride, 0f, new Taps(i == 0, Activation.None), y, h, width);
            }
        }
    }
}
