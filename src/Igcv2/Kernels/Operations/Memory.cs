using ILGPU;
using ILGPU.Runtime;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>Sets every element of <paramref name="t"/>.</summary>
    public void Fill(Tensor t, float value)
    {
        using var timing = Time(nameof(Fill), t);
        Owned(nameof(Fill), t, "t");
        backend.Run(new FillKernel(t, value));
    }

    /// <summary>Copies every element; the tensors must have the same number of elements.</summary>
    public void Copy(Tensor source, Tensor destination)
    {
        using var timing = Time(nameof(Copy), source);
        Owned(nameof(Copy), source, "source");
        Owned(nameof(Copy), destination, "destination");
        if (source.Length != destination.Length)
        {
            throw new ArgumentException($"Copy: destination {destination.ShapeText} must hold as many elements as source {source.ShapeText}.", nameof(destination));
        }
        if (source.SharesMemory(destination)) return;
        backend.Run(new CopyKernel(source, destination));
    }
}

/// <summary>Every element of <see cref="T"/> set to <see cref="Value"/>.</summary>
internal readonly record struct FillKernel(Tensor T, float Value) : IKernel
{
    public void OnHost() => T.HostSpan.Fill(Value);

    public void OnDevice(Backend backend)
    {
        int total = checked((int)T.Length);
        var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, float, ArrayView<float>>(Kernel));
        kernel(backend.Threads(total), total, backend.Threads(total), Value, T.Flat);
    }

    [DeviceKernel]
    public static void Kernel(Index1D index, int total, int stride, float value, ArrayView<float> t)
    {
        for (int i = index; i < total; i += stride) t[i] = value;
    }
}

/// <summary>A copy of every element, by the host or by the accelerator's copy (no kernel of ours).</summary>
internal readonly record struct CopyKernel(Tensor Source, Tensor Destination) : IKernel
{
    public void OnHost() => Source.HostSpan.CopyTo(Destination.HostSpan);

    public void OnDevice(Backend backend) => Source.Flat.CopyTo(Destination.Flat);
}
