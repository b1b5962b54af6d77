using System.Runtime.InteropServices;

namespace Igcv2.GpuBench;

internal static class TensorUtil
{
    /// <summary>Uniform values in [-1, 1) from <paramref name="seed"/>: never zeros, which hide unwritten outputs.</summary>
    public static float[] RandomValues(long count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    public static Tensor Random(Device device, int seed, params int[] shape)
    {
        var t = device.Allocate(shape);
        t.CopyFrom(RandomValues(t.Length, seed));
        return t;
    }

    /// <summary>n random class indices in [0, classes) on the device, as the loss and metric kernels read them.</summary>
    public static Labels Labels(Device device, int n, int classes, int seed)
    {
        var random = new Random(seed);
        var labels = device.AllocateLabels(n);
        labels.CopyFrom(Enumerable.Range(0, n).Select(_ => random.Next(classes)).ToArray());
        return labels;
    }

    /// <summary>
    /// max |a - b| and max |b|: errors are taken relative to the reference tensor's scale, not element-wise (an
    /// element-wise ratio blows up on entries near zero, which BN gradients are full of). NaN anywhere: NaN.
    /// </summary>
    public static (double MaxAbs, double ReferenceMax) Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> reference)
    {
        if (actual.Length != reference.Length) throw new ArgumentException($"Lengths differ: {actual.Length} and {reference.Length}.");
        double maxDiff = 0, scale = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - reference[i]);
            if (double.IsNaN(d)) return (double.NaN, double.NaN);
            maxDiff = Math.Max(maxDiff, d);
            scale = Math.Max(scale, Math.Abs((double)reference[i]));
        }
        return (maxDiff, scale);
    }
}

/// <summary>
/// Device memory in use, for the peak-memory column. On CUDA: the driver's free memory (cuMemGetInfo on the
/// context ILGPU made current on this thread), so the drop while a model lives is every buffer it and the
/// optimizer allocated plus ILGPU's scratch and loaded kernels. On the CPU device: the process's resident set.
/// </summary>
internal static class MemoryProbe
{
    public static long Used(Device device)
    {
        if (device.Kind == DeviceKind.Cuda)
        {
            device.Synchronize();
            return CudaUsed() ?? -1;
        }
        GC.Collect();
        return Environment.WorkingSet;
    }

    public static string Describe(DeviceKind kind) => kind == DeviceKind.Cuda
        ? "CUDA driver: total minus free memory (cuMemGetInfo)"
        : "process resident set (the CPU device's buffers are host memory)";

    private static long? CudaUsed()
    {
        try
        {
            return CuMemGetInfo(out var free, out var total) == 0 ? (long)(total - free) : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport("libcuda.so.1", EntryPoint = "cuMemGetInfo_v2")]
    private static extern int CuMemGetInfo(out nuint free, out nuint total);
}
