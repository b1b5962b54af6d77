using ILGPU;
using ILGPU.Runtime;

namespace Igcv2;

/// <summary>A dense float32 array on a <see cref="Device"/> with a shape (NCHW for images).</summary>
public sealed class Tensor : IDisposable
{
    private readonly int[] shape;
    private MemoryBuffer1D<float, Stride1D.Dense>? buffer;

    internal Tensor(Device device, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape.Any(d => d <= 0))
        {
            throw new ArgumentException($"A tensor shape needs positive dimensions, got [{string.Join(", ", shape)}].", nameof(shape));
        }
        Device = device;
        this.shape = (int[])shape.Clone();
        Length = shape.Aggregate(1L, (a, d) => checked(a * d));
        buffer = device.Accelerator.Allocate1D<float>(Length);
    }

    public Device Device { get; }

    /// <summary>A copy of the shape.</summary>
    public int[] Shape => (int[])shape.Clone();

    /// <summary>Dimension <paramref name="axis"/> of the shape, without a copy.</summary>
    public int Dim(int axis) => shape[axis];

    public int Rank => shape.Length;

    public long Length { get; }

    public bool IsDisposed => buffer is null;

    /// <summary>The device memory, for kernels.</summary>
    public ArrayView1D<float, Stride1D.Dense> View => Buffer.View;

    /// <summary>The device memory as a contiguous view, the form the kernels take.</summary>
    internal ArrayView<float> Flat => Buffer.View.AsContiguous();

    internal MemoryBuffer1D<float, Stride1D.Dense> Buffer =>
        buffer ?? throw new ObjectDisposedException(nameof(Tensor), "The tensor was disposed (or its model was).");

    /// <summary>
    /// The memory as a host span when the tensor lives on the CPU accelerator (its buffers are host
    /// memory), for host-parallel launchers; throws on other devices.
    /// </summary>
    public unsafe Span<float> HostSpan
    {
        get
        {
            if (!Device.IsCpu) throw new InvalidOperationException("HostSpan exists only for tensors on the CPU accelerator.");
            return new Span<float>((void*)Buffer.NativePtr, checked((int)Length));
        }
    }

    public void CopyFrom(ReadOnlySpan<float> values)
    {
        if (values.Length != Length)
        {
            throw new ArgumentException($"Expected {Length} values for shape [{string.Join(", ", shape)}], got {values.Length}.", nameof(values));
        }
        if (Device.IsCpu)
        {
            values.CopyTo(HostSpan);
            return;
        }
        Buffer.View.CopyFromCPU(values.ToArray());
    }

    public float[] ToArray()
    {
        var result = new float[Length];
        CopyTo(result);
        return result;
    }

    public void CopyTo(Span<float> destination)
    {
        if (destination.Length != Length)
        {
            throw new ArgumentException($"Expected room for {Length} values, got {destination.Length}.", nameof(destination));
        }
        Device.Synchronize();
        if (Device.IsCpu)
        {
            HostSpan.CopyTo(destination);
            return;
        }
        var host = Buffer.GetAsArray1D();
        host.AsSpan().CopyTo(destination);
    }

    /// <summary>The shape as text, e.g. "[64, 32, 16, 16]", for messages.</summary>
    public string ShapeText => $"[{string.Join(", ", shape)}]";

    public override string ToString() => $"Tensor{ShapeText} on {Device.Kind}";

    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
    }
}
