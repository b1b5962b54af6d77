using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Igcv2.Kernels;

/// <summary>
/// What the ops' host loops share (each op's loop lives beside its kernel, under Kernels/Operations or, for the fused
/// steps, Kernels/Fused): a capturable host buffer, the Parallel.For over planes or chunks (work is split by whole planes
/// or channels, so each worker owns its outputs: no atomics, deterministic) and the <see cref="Vector{T}"/> dot product
/// and axpy.
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

        public float* Pointer => (float*)pointer;

        public Span<float> Slice(int start, int count) => new((float*)pointer + start, count);
    }

    private const int ElementChunk = 1 << 15;

    /// <summary>Runs body(0..count) in parallel when the work is large enough to pay for it.</summary>
    /// <summary>Runs <paramref name="body"/> for every plane, in parallel when the work is worth it (the fused ops' loop).</summary>
    internal static void ForPlanes(int count, long workPerItem, Action<int> body) => For(count, workPerItem, body);

    private static void For(int count, long workPerItem, Action<int> body)
    {
        if (count == 1 || count * workPerItem < MinimumParallelWork)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        // Small items (a 7x7 or 14x14 plane each) go in ranges of about MinimumParallelWork, still at least four
        // ranges a core: one delegate call and one scheduling decision per item cost as much as the item itself.
        long perRange = Math.Min(MinimumParallelWork / Math.Max(1, workPerItem), count / (4L * Environment.ProcessorCount));
        if (perRange <= 1)
        {
            Parallel.For(0, count, body);
            return;
        }
        Parallel.ForEach(Partitioner.Create(0, count, (int)perRange), range =>
        {
            for (int i = range.Item1; i < range.Item2; i++) body(i);
        });
    }

    /// <summary>Work (in elements or multiply-adds) below which a loop runs on one thread, and the size of a range.</summary>
    private const long MinimumParallelWork = 16_384;

    /// <summary>Splits [0, total) into chunks for element-wise operations.</summary>
    internal static void ForChunks(int total, Action<int, int> body)
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
            // Four accumulators hide the add latency; the order is fixed, so results stay deterministic.
            Vector<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            int count = Vector<float>.Count;
            ref float ra = ref MemoryMarshal.GetReference(a);
            ref float rb = ref MemoryMarshal.GetReference(b);
            for (; i <= a.Length - 4 * count; i += 4 * count)
            {
                acc0 += Vector.LoadUnsafe(ref ra, (nuint)i) * Vector.LoadUnsafe(ref rb, (nuint)i);
                acc1 += Vector.LoadUnsafe(ref ra, (nuint)(i + count)) * Vector.LoadUnsafe(ref rb, (nuint)(i + count));
                acc2 += Vector.LoadUnsafe(ref ra, (nuint)(i + 2 * count)) * Vector.LoadUnsafe(ref rb, (nuint)(i + 2 * count));
                acc3 += Vector.LoadUnsafe(ref ra, (nuint)(i + 3 * count)) * Vector.LoadUnsafe(ref rb, (nuint)(i + 3 * count));
            }
            for (; i <= a.Length - count; i += count)
            {
                acc0 += Vector.LoadUnsafe(ref ra, (nuint)i) * Vector.LoadUnsafe(ref rb, (nuint)i);
            }
            sum = Vector.Sum((acc0 + acc1) + (acc2 + acc3));
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
