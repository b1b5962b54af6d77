using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Igcv2.Kernels;

/// <summary>
/// The CPU fast path: the same operations as <see cref="DeviceKernels"/>, launched with Parallel.For over
/// the CPU accelerator's buffers (host memory). Work is split by whole planes or channels, so each worker
/// owns its outputs (no atomics, deterministic) and inner loops run contiguously over W or H*W with
/// <see cref="Vector{T}"/>.
/// </summary>
internal static unsafe class HostKernels
{
    /// <summary>A host buffer that lambdas can capture (spans cannot be captured).</summary>
    internal readonly struct Buf
    {
        private readonly nint pointer;
        private readonly int length;

        public Buf(Tensor t)
        {
            var span = t.HostSpan;
            pointer = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
            length = span.Length;
        }

        public Span<float> Span => new((void*)pointer, length);

        public Span<float> Slice(int start, int count) => new((float*)pointer + start, count);
    }

    private const int ElementChunk = 1 << 15;

    /// <summary>Runs body(0..count) in parallel when the work is large enough to pay for it.</summary>
    private static void For(int count, long workPerItem, Action<int> body)
    {
        if (count == 1 || count * workPerItem < 16_384)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, body);
    }

    /// <summary>Splits [0, total) into chunks for element-wise operations.</summary>
    private static void ForChunks(int total, Action<int, int> body)
    {
        int chunks = (total + ElementChunk - 1) / ElementChunk;
        For(chunks, ElementChunk, c =>
        {
            int start = c * ElementChunk;
            body(start, Math.Min(ElementChunk, total - start));
        });
    }

    // ---- vector primitives ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            ref float rx = ref MemoryMarshal.GetReference(x);
            ref float ry = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vy = Vector.LoadUnsafe(ref ry, (nuint)i);
                var vx = Vector.LoadUnsafe(ref rx, (nuint)i);
                (vy + va * vx).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] += a * x[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int i = 0;
        float sum = 0f;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            ref float ra = ref MemoryMarshal.GetReference(a);
            ref float rb = ref MemoryMarshal.GetReference(b);
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                acc += Vector.LoadUnsafe(ref ra, (nuint)i) * Vector.LoadUnsafe(ref rb, (nuint)i);
            }
            sum = Vector.Sum(acc);
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(ReadOnlySpan<float> a)
    {
        int i = 0;
        float sum = 0f;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            ref float ra = ref MemoryMarshal.GetReference(a);
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count) acc += Vector.LoadUnsafe(ref ra, (nuint)i);
            sum = Vector.Sum(acc);
        }
        for (; i < a.Length; i++) sum += a[i];
        return sum;
    }

    /// <summary>Sum of (a[i] - shift)^2.</summary>
    private static float SumSquaredDeviation(ReadOnlySpan<float> a, float shift)
    {
        int i = 0;
        float sum = 0f;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            var vs = new Vector<float>(shift);
            ref float ra = ref MemoryMarshal.GetReference(a);
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var d = Vector.LoadUnsafe(ref ra, (nuint)i) - vs;
                acc += d * d;
            }
            sum = Vector.Sum(acc);
        }
        for (; i < a.Length; i++)
        {
            float d = a[i] - shift;
            sum += d * d;
        }
        return sum;
    }

    /// <summary>y = a * x + b, element-wise (x and y may be the same span).</summary>
    private static void ScaleShift(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            var vb = new Vector<float>(b);
            ref float rx = ref MemoryMarshal.GetReference(x);
            ref float ry = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref rx, (nuint)i) * va + vb).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = x[i] * a + b;
    }

    // ---- convolution ----

    public static void Conv2d(ConvGeometry g, Buf x, Buf w, Buf y)
    {
        int planeIn = g.H * g.W;
        int planeOut = g.Ho * g.Wo;
        int k = g.K;
        For(g.N * g.Cout, (long)g.Cig * k * k * planeOut, item =>
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
                    Axpy(ws[wBase], xp, yp);
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
                                Axpy(wv, xp.Slice(xRow + ox0 + offX, len), yRow);
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

    public static void Conv2dBackwardInput(ConvGeometry g, Buf gy, Buf w, Buf gx)
    {
        int planeIn = g.H * g.W;
        int planeOut = g.Ho * g.Wo;
        int k = g.K;
        For(g.N * g.Cin, (long)g.Cog * k * k * planeOut, item =>
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
                    Axpy(ws[wBase], gyp, gxp);
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
                                Axpy(wv, gyRow, gxp.Slice(xRow + ox0 + offX, len));
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

    public static void Conv2dBackwardWeight(ConvGeometry g, Buf x, Buf gy, Buf gw)
    {
        int planeIn = g.H * g.W;
        int planeOut = g.Ho * g.Wo;
        int k = g.K;
        // One worker owns the k*k weights of one (output channel, branch input) pair.
        For(g.Cout * g.Cig, (long)g.N * k * k * planeOut, item =>
        {
            int cil = item % g.Cig;
            int co = item / g.Cig;
            int ci = (co / g.Cog) * g.Cig + cil;
            var gws = gw.Slice(item * k * k, k * k);
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
                            sum += Dot(xp, gyp);
                            continue;
                        }
                        for (int oy = oy0; oy < oy1; oy++)
                        {
                            int xRow = (oy * g.Stride + offY) * g.W;
                            var gyRow = gyp.Slice(oy * g.Wo + ox0, len);
                            if (g.Stride == 1)
                            {
                                sum += Dot(gyRow, xp.Slice(xRow + ox0 + offX, len));
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

    // ---- permutation, normalisation, activations ----

    public static void ChannelShuffle(int n, int channels, int groups, int plane, Buf x, Buf y)
    {
        int perBranch = channels / groups;
        For(n * channels, plane, item =>
        {
            int d = item % channels;
            int s = item / channels;
            int src = (d % groups) * perBranch + d / groups;
            x.Slice((s * channels + src) * plane, plane).CopyTo(y.Slice(item * plane, plane));
        });
    }

    public static void BatchNormTraining(int n, int channels, int plane, float momentum, float epsilon,
        Buf x, Buf gamma, Buf beta, Buf y, Buf savedMean, Buf savedInvStd, Buf runningMean, Buf runningVar)
    {
        For(channels, (long)n * plane * 3, c =>
        {
            double m = (double)n * plane;
            double sum = 0.0;
            for (int s = 0; s < n; s++) sum += Sum(x.Slice((s * channels + c) * plane, plane));
            double mean = sum / m;
            double squares = 0.0;
            for (int s = 0; s < n; s++) squares += SumSquaredDeviation(x.Slice((s * channels + c) * plane, plane), (float)mean);
            // Correct for rounding the shift to float: sum (x - mu)^2 = sum (x - mf)^2 - m (mf - mu)^2.
            double shiftError = (float)mean - mean;
            squares = Math.Max(0.0, squares - m * shiftError * shiftError);
            double variance = squares / m;
            double unbiased = m > 1 ? squares / (m - 1) : variance;
            float invStd = (float)(1.0 / Math.Sqrt(variance + epsilon));
            savedMean.Span[c] = (float)mean;
            savedInvStd.Span[c] = invStd;
            var rm = runningMean.Span;
            var rv = runningVar.Span;
            rm[c] = (float)((1.0 - momentum) * rm[c] + momentum * mean);
            rv[c] = (float)((1.0 - momentum) * rv[c] + momentum * unbiased);
            float scale = gamma.Span[c] * invStd;
            float shift = beta.Span[c] - (float)mean * scale;
            for (int s = 0; s < n; s++)
            {
                int b = (s * channels + c) * plane;
                ScaleShift(x.Slice(b, plane), scale, shift, y.Slice(b, plane));
            }
        });
    }

    public static void BatchNormInference(int n, int channels, int plane, float epsilon,
        Buf x, Buf gamma, Buf beta, Buf runningMean, Buf runningVar, Buf y)
    {
        For(n * channels, plane, item =>
        {
            int c = item % channels;
            float scale = gamma.Span[c] / MathF.Sqrt(runningVar.Span[c] + epsilon);
            float shift = beta.Span[c] - runningMean.Span[c] * scale;
            ScaleShift(x.Slice(item * plane, plane), scale, shift, y.Slice(item * plane, plane));
        });
    }

    public static void BatchNormBackward(int n, int channels, int plane,
        Buf x, Buf gy, Buf gamma, Buf savedMean, Buf savedInvStd, Buf gx, Buf gGamma, Buf gBeta)
    {
        For(channels, (long)n * plane * 3, c =>
        {
            double m = (double)n * plane;
            double sumGy = 0.0;
            double sumGyX = 0.0;
            for (int s = 0; s < n; s++)
            {
                int b = (s * channels + c) * plane;
                var gyp = gy.Slice(b, plane);
                sumGy += Sum(gyp);
                sumGyX += Dot(gyp, x.Slice(b, plane));
            }
            double mean = savedMean.Span[c];
            double invStd = savedInvStd.Span[c];
            double sumGyXhat = (sumGyX - mean * sumGy) * invStd;
            gBeta.Span[c] = (float)sumGy;
            gGamma.Span[c] = (float)sumGyXhat;
            // gx = k (gy - sumGy/m - xhat sumGyXhat/m), k = gamma invStd, written as A gy + B x + C.
            double kk = gamma.Span[c] * invStd;
            float a = (float)kk;
            float bx = (float)(-kk * invStd * sumGyXhat / m);
            float cc = (float)(kk * (-sumGy / m + mean * invStd * sumGyXhat / m));
            for (int s = 0; s < n; s++)
            {
                int b = (s * channels + c) * plane;
                var gyp = gy.Slice(b, plane);
                var xp = x.Slice(b, plane);
                var gxp = gx.Slice(b, plane);
                int i = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    var va = new Vector<float>(a);
                    var vb = new Vector<float>(bx);
                    var vc = new Vector<float>(cc);
                    for (; i <= plane - Vector<float>.Count; i += Vector<float>.Count)
                    {
                        var r = va * new Vector<float>(gyp.Slice(i)) + vb * new Vector<float>(xp.Slice(i)) + vc;
                        r.CopyTo(gxp.Slice(i));
                    }
                }
                for (; i < plane; i++) gxp[i] = a * gyp[i] + bx * xp[i] + cc;
            }
        });
    }

    public static void Relu(int total, Buf x, Buf y) => ForChunks(total, (start, count) =>
    {
        var xs = x.Slice(start, count);
        var ys = y.Slice(start, count);
        int i = 0;
        for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Max(new Vector<float>(xs.Slice(i)), Vector<float>.Zero).CopyTo(ys.Slice(i));
        }
        for (; i < count; i++) ys[i] = xs[i] > 0f ? xs[i] : 0f;
    });

    public static void ReluBackward(int total, Buf y, Buf gy, Buf gx) => ForChunks(total, (start, count) =>
    {
        var ys = y.Slice(start, count);
        var gys = gy.Slice(start, count);
        var gxs = gx.Slice(start, count);
        int i = 0;
        for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
        {
            var mask = Vector.GreaterThan(new Vector<float>(ys.Slice(i)), Vector<float>.Zero);
            Vector.ConditionalSelect(mask, new Vector<float>(gys.Slice(i)), Vector<float>.Zero).CopyTo(gxs.Slice(i));
        }
        for (; i < count; i++) gxs[i] = ys[i] > 0f ? gys[i] : 0f;
    });

    public static void Add(int total, Buf a, Buf b, Buf y) => ForChunks(total, (start, count) =>
    {
        var @as = a.Slice(start, count);
        var bs = b.Slice(start, count);
        var ys = y.Slice(start, count);
        int i = 0;
        for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
        {
            (new Vector<float>(@as.Slice(i)) + new Vector<float>(bs.Slice(i))).CopyTo(ys.Slice(i));
        }
        for (; i < count; i++) ys[i] = @as[i] + bs[i];
    });

    public static void GlobalAveragePool(int planes, int plane, Buf x, Buf y)
    {
        For(planes, plane, item => y.Span[item] = Sum(x.Slice(item * plane, plane)) / plane);
    }

    public static void GlobalAveragePoolBackward(int planes, int plane, Buf gy, Buf gx)
    {
        For(planes, plane, item => gx.Slice(item * plane, plane).Fill(gy.Span[item] / plane));
    }

    // ---- classifier and loss ----

    public static void Linear(int n, int inputs, int outputs, Buf x, Buf w, Buf b, Buf y)
    {
        For(n, (long)inputs * outputs, s =>
        {
            var xs = x.Slice(s * inputs, inputs);
            var ys = y.Slice(s * outputs, outputs);
            var bs = b.Span;
            for (int o = 0; o < outputs; o++) ys[o] = Dot(xs, w.Slice(o * inputs, inputs)) + bs[o];
        });
    }

    public static void LinearBackward(int n, int inputs, int outputs, Buf x, Buf w, Buf gy, Buf gx, Buf gw, Buf gb)
    {
        For(n, (long)inputs * outputs, s =>
        {
            var gxs = gx.Slice(s * inputs, inputs);
            gxs.Clear();
            var gys = gy.Slice(s * outputs, outputs);
            for (int o = 0; o < outputs; o++) Axpy(gys[o], w.Slice(o * inputs, inputs), gxs);
        });
        For(outputs, (long)n * inputs, o =>
        {
            var gws = gw.Slice(o * inputs, inputs);
            gws.Clear();
            var gys = gy.Span;
            double bias = 0.0;
            for (int s = 0; s < n; s++)
            {
                float g = gys[s * outputs + o];
                bias += g;
                Axpy(g, x.Slice(s * inputs, inputs), gws);
            }
            gb.Span[o] = (float)bias;
        });
    }

    /// <summary>Returns the summed (not yet averaged) loss; throws on a label that is not a class index.</summary>
    public static double SoftmaxCrossEntropy(int n, int classes, Buf logits, Buf labels, Buf grad)
    {
        for (int s = 0; s < n; s++) CheckedLabel(labels.Span[s], classes);
        var losses = new double[n];
        For(n, classes * 4, s =>
        {
            var z = logits.Slice(s * classes, classes);
            var gz = grad.Slice(s * classes, classes);
            float max = z[0];
            for (int c = 1; c < classes; c++) max = Math.Max(max, z[c]);
            double sum = 0.0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(z[c] - max);
            int label = (int)labels.Span[s];
            double invN = 1.0 / n;
            for (int c = 0; c < classes; c++)
            {
                double p = Math.Exp(z[c] - max) / sum;
                gz[c] = (float)((p - (c == label ? 1.0 : 0.0)) * invN);
            }
            losses[s] = Math.Log(sum) - (z[label] - max);
        });
        double total = 0.0;
        foreach (var l in losses) total += l;
        return total;
    }

    public static int CountCorrect(int n, int classes, Buf logits, Buf labels)
    {
        int hits = 0;
        var z = logits.Span;
        var ls = labels.Span;
        for (int s = 0; s < n; s++)
        {
            int b = s * classes;
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                if (z[b + c] > z[b + best]) best = c;
            }
            if (best == ls[s]) hits++;
        }
        return hits;
    }

    internal static int CheckedLabel(float value, int classes)
    {
        int label = (int)value;
        if (label != value || label < 0 || label >= classes)
        {
            throw new ArgumentOutOfRangeException("labels", value, $"A label must be a class index in [0, {classes}).");
        }
        return label;
    }
}
