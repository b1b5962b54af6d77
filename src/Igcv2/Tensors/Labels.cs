using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace Igcv2;

/// <summary>
/// Class indices on a <see cref="Device"/>, one int32 per sample: what the loss and the metrics read beside the
/// logits (<see cref="Device.AllocateLabels"/>). Like a <see cref="Tensor"/> it may be allocated for a larger
/// batch than an operation's n; only the first n labels are read. The values are checked where they are read:
/// the loss and the metrics throw an <see cref="ArgumentOutOfRangeException"/> naming the first label outside
/// [0, classes) and its index.
/// </summary>
public sealed class Labels : IDisposable
{
    private MemoryBuffer1D<int, Stride1D.Dense>? buffer;

    internal Labels(Device device, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        Device = device;
        Length = length;
        buffer = device.Accelerator.Allocate1D<int>(length);
    }

    public Device Device { get; }

    /// <summary>How many labels the buffer holds (the batch dimension).</summary>
    public int Length { get; }

    /// <summary>True once disposed (or once its device was).</summary>
    public bool IsDisposed => buffer is null;

    /// <summary>The device memory, the form the kernels take.</summary>
    internal ArrayView<int> Flat => Buffer.View.AsContiguous();

    private MemoryBuffer1D<int, Stride1D.Dense> Buffer =>
        buffer ?? throw new ObjectDisposedException(nameof(Labels), "The labels were disposed.");

    /// <summary>The memory as a host span on the CPU accelerator (its buffers are host memory); throws on other devices.</summary>
    internal unsafe Span<int> HostSpan
    {
        get
        {
            if (!Device.IsCpu) throw new InvalidOperationException("HostSpan exists only for labels on the CPU accelerator.");
            return new Span<int>((int*)Buffer.NativePtr, Length);
        }
    }

    /// <summary>Copies <see cref="Length"/> class indices in (checked when the loss or a metric reads them).</summary>
    /// <exception cref="ArgumentException">The span does not hold <see cref="Length"/> values.</exception>
    public void CopyFrom(ReadOnlySpan<int> values)
    {
        if (values.Length != Length)
        {
            throw new ArgumentException($"Expected {Length} labels, got {values.Length}.", nameof(values));
        }
        if (Device.IsCpu)
        {
            values.CopyTo(HostSpan);
            return;
        }
        Flat.CopyFromCPU(ref MemoryMarshal.GetReference(values), values.Length);
    }

    public int[] ToArray()
    {
        var result = new int[Length];
        Device.Synchronize();
        if (Device.IsCpu) HostSpan.CopyTo(result);
        else Flat.CopyToCPU(ref MemoryMarshal.GetReference(result.AsSpan()), Length);
        return result;
    }

    public override string ToString() => $"Labels[{Length}] on {Device.Kind}";

    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
    }
}
