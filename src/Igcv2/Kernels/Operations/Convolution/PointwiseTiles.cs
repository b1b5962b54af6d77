using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Igcv2.Design;

namespace Igcv2.Kernels;

/// <summary>
/// The register tiles of a 1x1 (group) convolution over positions in a row of each channel: y[o][p] = activation(bias[o] +
/// sum_i w[o][i] x[i][p] (+ skip[o][p])), output o stored at row destination[o]. Every output adds its K terms in the
/// order i = 0, 1, ... by FMA, whichever tile (32 or 16 in Vector512 where <see cref="Lanes.Wide"/>, 16, 8 or a masked
/// tail of positions in Vector256) computes it, so neither the tiling nor the vector width changes a bit. Used by the
/// fused inference blocks and by the training steps' 1x1 convolutions.
/// </summary>
internal static class PointwiseTiles
{
    /// <summary>Which rows may be read or written in whole vectors past the last position (rows padded to vectors in a scratch the caller owns).</summary>
    [Flags]
    public enum Padded
    {
        None = 0,
        Input = 1,
        Output = 2,
        Skip = 4,
    }

    /// <summary>The rows destination[0..3] of a tensor whose rows are <c>stride</c> apart (a tile's four outputs, or their skip); all null for no tensor.</summary>
    private readonly unsafe struct FourRows
    {
        public readonly float* R0, R1, R2, R3;

        public FourRows(float* rows, long stride, int* destination)
        {
            if (rows is null) return;
            R0 = rows + destination[0] * stride; R1 = rows + destination[1] * stride;
            R2 = rows + destination[2] * stride; R3 = rows + destination[3] * stride;
        }
    }

    /// <summary>
    /// Four output channels, o = 0..3 of <paramref name="w"/> and <paramref name="bias"/>, stored at rows
    /// <paramref name="destination"/>[o]: <see cref="FourWide"/> where <see cref="Lanes.Wide"/>, else <see cref="FourNarrow"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Four(float* x, int xStride, int k, float* w, float* bias, int* destination, float* y, int yStride,
        int positions, float* skip, int skipStride, Activation activation, Padded padded = Padded.None)
    {
        // The choice before either tile's frame is set up: at batch 1 a block makes thousands of short calls.
        if (Lanes.Wide) FourWide(x, xStride, k, w, bias, destination, y, yStride, positions, skip, skipStride, activation);
        else FourNarrow(x, xStride, k, w, bias, destination, y, yStride, positions, skip, skipStride, activation, padded);
    }

    /// <summary>
    /// Four output channels over 16 positions at a time: eight accumulators, enough independent FMA chains to
    /// cover the FMA latency, and each weight broadcast serves two vectors. Then one vector of 8, then the last
    /// positions as one masked vector (AVX), which neither reads nor writes past them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void FourNarrow(float* x, int xStride, int k, float* w, float* bias, int* destination, float* y, int yStride,
        int positions, float* skip, int skipStride, Activation activation, Padded padded)
    {
        float* w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k;
        var ys = new FourRows(y, yStride, destination);
        var ss = new FourRows(skip, skipStride, destination);
        float* y0 = ys.R0, y1 = ys.R1, y2 = ys.R2, y3 = ys.R3, s0 = ss.R0, s1 = ss.R1, s2 = ss.R2, s3 = ss.R3;
        var p = 0;
        for (; p + 16 <= positions; p += 16)
        {
            var a0 = Vector256.Create(bias[0]); var a1 = Vector256.Create(bias[1]);
            var a2 = Vector256.Create(bias[2]); var a3 = Vector256.Create(bias[3]);
            Vector256<float> b0 = a0, b1 = a1, b2 = a2, b3 = a3;
            var xi = x + p;
            for (var i = 0; i < k; i++, xi += xStride)
            {
                var u = Vector256.Load(xi);
                var v = Vector256.Load(xi + 8);
                var c = Vector256.Create(w0[i]);
                a0 = Vector256.MultiplyAddEstimate(u, c, a0);
                b0 = Vector256.MultiplyAddEstimate(v, c, b0);
                c = Vector256.Create(w1[i]);
                a1 = Vector256.MultiplyAddEstimate(u, c, a1);
                b1 = Vector256.MultiplyAddEstimate(v, c, b1);
                c = Vector256.Create(w2[i]);
                a2 = Vector256.MultiplyAddEstimate(u, c, a2);
                b2 = Vector256.MultiplyAddEstimate(v, c, b2);
                c = Vector256.Create(w3[i]);
                a3 = Vector256.MultiplyAddEstimate(u, c, a3);
                b3 = Vector256.MultiplyAddEstimate(v, c, b3);
            }
            if (skip is not null)
            {
                a0 += Vector256.Load(s0 + p); b0 += Vector256.Load(s0 + p + 8);
                a1 += Vector256.Load(s1 + p); b1 += Vector256.Load(s1 + p + 8);
                a2 += Vector256.Load(s2 + p); b2 += Vector256.Load(s2 + p + 8);
                a3 += Vector256.Load(s3 + p); b3 += Vector256.Load(s3 + p + 8);
            }
            Activations.Apply(a0, activation).Store(y0 + p); Activations.Apply(b0, activation).Store(y0 + p + 8);
            Activations.Apply(a1, activation).Store(y1 + p); Activations.Apply(b1, activation).Store(y1 + p + 8);
            Activations.Apply(a2, activation).Store(y2 + p); Activations.Apply(b2, activation).Store(y2 + p + 8);
            Activations.Apply(a3, activation).Store(y3 + p); Activations.Apply(b3, activation).Store(y3 + p + 8);
        }
        // Under 16 positions left: a whole vector, then (when any are left) a masked one, the same code.
        for (; p < positions; p += 8)
        {
            var whole = positions - p >= 8;
            if (!whole && !Avx.IsSupported)
            {
                var tail = positions - p;
                One(x + p, xStride, k, w0, bias[0], y0 + p, tail, s0 == null ? null : s0 + p, activation, padded);
                One(x + p, xStride, k, w1, bias[1], y1 + p, tail, s1 == null ? null : s1 + p, activation, padded);
                One(x + p, xStride, k, w2, bias[2], y2 + p, tail, s2 == null ? null : s2 + p, activation, padded);
                One(x + p, xStride, k, w3, bias[3], y3 + p, tail, s3 == null ? null : s3 + p, activation, padded);
                return;
            }
            var mask = whole ? Vector256<float>.AllBitsSet : Lanes.Last(0, positions - p);
            var a0 = Vector256.Create(bias[0]); var a1 = Vector256.Create(bias[1]);
            var a2 = Vector256.Create(bias[2]); var a3 = Vector256.Create(bias[3]);
            var xi = x + p;
            for (var i = 0; i < k; i++, xi += xStride)
            {
                var v = Lanes.Load(xi, whole || (padded & Padded.Input) != 0, mask);
                a0 = Vector256.MultiplyAddEstimate(v, Vector256.Create(w0[i]), a0);
                a1 = Vector256.MultiplyAddEstimate(v, Vector256.Create(w1[i]), a1);
                a2 = Vector256.MultiplyAddEstimate(v, Vector256.Create(w2[i]), a2);
                a3 = Vector256.MultiplyAddEstimate(v, Vector256.Create(w3[i]), a3);
            }
            if (skip is not null)
            {
                var fromSkip = whole || (padded & Padded.Skip) != 0;
                a0 += Lanes.Load(s0 + p, fromSkip, mask); a1 += Lanes.Load(s1 + p, fromSkip, mask);
                a2 += Lanes.Load(s2 + p, fromSkip, mask); a3 += Lanes.Load(s3 + p, fromSkip, mask);
            }
            // A masked store is slow on some cores (microcoded on AMD's first Zen): into padded rows the tail stores whole vectors.
            var toOutput = whole || (padded & Padded.Output) != 0;
            Lanes.Store(Activations.Apply(a0, activation), y0 + p, toOutput, mask);
            Lanes.Store(Activations.Apply(a1, activation), y1 + p, toOutput, mask);
            Lanes.Store(Activations.Apply(a2, activation), y2 + p, toOutput, mask);
            Lanes.Store(Activations.Apply(a3, activation), y3 + p, toOutput, mask);
        }
    }

    /// <summary>
    /// <see cref="FourNarrow"/>'s tile in Vector512 (AVX-512): four output channels over 32 positions (two vectors each, eight
    /// accumulators of 32 registers), then the rest in masked vectors of 16. Each output's FMAs are
    /// <see cref="FourNarrow"/>'s, in its order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void FourWide(float* x, int xStride, int k, float* w, float* bias, int* destination, float* y, int yStride,
        int positions, float* skip, int skipStride, Activation activation)
    {
        float* w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k;
        var ys = new FourRows(y, yStride, destination);
        var ss = new FourRows(skip, skipStride, destination);
        float* y0 = ys.R0, y1 = ys.R1, y2 = ys.R2, y3 = ys.R3, s0 = ss.R0, s1 = ss.R1, s2 = ss.R2, s3 = ss.R3;
        var p = 0;
        for (; p + 32 <= positions; p += 32)
        {
            var a0 = Vector512.Create(bias[0]); var a1 = Vector512.Create(bias[1]);
            var a2 = Vector512.Create(bias[2]); var a3 = Vector512.Create(bias[3]);
            Vector512<float> b0 = a0, b1 = a1, b2 = a2, b3 = a3;
            var xi = x + p;
            for (var i = 0; i < k; i++, xi += xStride)
            {
                var u = Vector512.Load(xi);
                var v = Vector512.Load(xi + 16);
                var c = Vector512.Create(w0[i]);
                a0 = Vector512.FusedMultiplyAdd(u, c, a0);
                b0 = Vector512.FusedMultiplyAdd(v, c, b0);
                c = Vector512.Create(w1[i]);
                a1 = Vector512.FusedMultiplyAdd(u, c, a1);
                b1 = Vector512.FusedMultiplyAdd(v, c, b1);
                c = Vector512.Create(w2[i]);
                a2 = Vector512.FusedMultiplyAdd(u, c, a2);
                b2 = Vector512.FusedMultiplyAdd(v, c, b2);
                c = Vector512.Create(w3[i]);
                a3 = Vector512.FusedMultiplyAdd(u, c, a3);
                b3 = Vector512.FusedMultiplyAdd(v, c, b3);
            }
            if (s0 is not null)
            {
                a0 += Vector512.Load(s0 + p); b0 += Vector512.Load(s0 + p + 16);
                a1 += Vector512.Load(s1 + p); b1 += Vector512.Load(s1 + p + 16);
                a2 += Vector512.Load(s2 + p); b2 += Vector512.Load(s2 + p + 16);
                a3 += Vector512.Load(s3 + p); b3 += Vector512.Load(s3 + p + 16);
            }
            Activations.Apply(a0, activation).Store(y0 + p); Activations.Apply(b0, activation).Store(y0 + p + 16);
            Activations.Apply(a1, activation).Store(y1 + p); Activations.Apply(b1, activation).Store(y1 + p + 16);
            Activations.Apply(a2, activation).Store(y2 + p); Activations.Apply(b2, activation).Store(y2 + p + 16);
            Activations.Apply(a3, activation).Store(y3 + p); Activations.Apply(b3, activation).Store(y3 + p + 16);
        }
        // At most 31 positions left: vectors of 16 with masked loads and stores, the last ending at the last position,
        // so nothing past it is read or written.
        for (; p < positions; p += 16)
        {
            var mask = Lanes.Within(p, positions);
            var a0 = Vector512.Create(bias[0]); var a1 = Vector512.Create(bias[1]);
            var a2 = Vector512.Create(bias[2]); var a3 = Vector512.Create(bias[3]);
            var xi = x + p;
            for (var i = 0; i < k; i++, xi += xStride)
            {
                var v = Lanes.Load(xi, mask);
                a0 = Vector512.FusedMultiplyAdd(v, Vector512.Create(w0[i]), a0);
                a1 = Vector512.FusedMultiplyAdd(v, Vector512.Create(w1[i]), a1);
                a2 = Vector512.FusedMultiplyAdd(v, Vector512.Create(w2[i]), a2);
                a3 = Vector512.FusedMultiplyAdd(v, Vector512.Create(w3[i]), a3);
            }
            if (s0 is not null)
            {
                a0 += Lanes.Load(s0 + p, mask); a1 += Lanes.Load(s1 + p, mask);
                a2 += Lanes.Load(s2 + p, mask); a3 += Lanes.Load(s3 + p, mask);
            }
            Lanes.Store(Activations.Apply(a0, activation), y0 + p, mask); Lanes.Store(Activations.Apply(a1, activation), y1 + p, mask);
            Lanes.Store(Activations.Apply(a2, activation), y2 + p, mask); Lanes.Store(Activations.Apply(a3, activation), y3 + p, mask);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void One(float* x, int xStride, int k, float* w, float bias, float* y, int positions, float* skip, Activation activation,
        Padded padded = Padded.None)
    {
        var p = 0;
        if (Lanes.Wide)
        {
            // Vectors of 16 with masked loads and stores, the last ending at the last position.
            for (; p < positions; p += 16)
            {
                var mask = Lanes.Within(p, positions);
                var a = Vector512.Create(bias);
                var xi = x + p;
                for (var i = 0; i < k; i++, xi += xStride) a = Vector512.FusedMultiplyAdd(Lanes.Load(xi, mask), Vector512.Create(w[i]), a);
                if (skip is not null) a += Lanes.Load(skip + p, mask);
                Lanes.Store(Activations.Apply(a, activation), y + p, mask);
            }
            return;
        }
        for (; p + 8 <= positions; p += 8)
        {
            var a = Vector256.Create(bias);
            var xi = x + p;
            for (var i = 0; i < k; i++, xi += xStride) a = Vector256.MultiplyAddEstimate(Vector256.Load(xi), Vector256.Create(w[i]), a);
            if (skip is not null) a += Vector256.Load(skip + p);
            Activations.Apply(a, activation).Store(y + p);
        }
        if (p < positions && Avx.IsSupported)
        {
            var mask = Lanes.Last(0, positions - p);
            var a = Vector256.Create(bias);
            var xi = x + p;
            for (var i = 0; i < k; i++, xi += xStride) a = Vector256.MultiplyAddEstimate(Lanes.Load(xi, (padded & Padded.Input) != 0, mask), Vector256.Create(w[i]), a);
            if (skip is not null) a += Lanes.Load(skip + p, (padded & Padded.Skip) != 0, mask);
            Lanes.Store(Activations.Apply(a, activation), y + p, (padded & Padded.Output) != 0, mask);
            return;
        }
        for (; p < positions; p++)
        {
            var a = bias;
            var xi = x + p;
            for (var i = 0; i < k; i++, xi += xStride) a = MathF.FusedMultiplyAdd(*xi, w[i], a);
            if (skip is not null) a += skip[p];
            y[p] = Activations.Apply(a, activation);
        }
    }
}
