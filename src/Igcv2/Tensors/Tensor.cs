using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace Igcv2;

/// <summary>
/// A dense float32 array on a <see cref="Device"/> with a shape (NCHW for images). A tensor either owns its
/// device memory or is a view (<see cref="Reshape"/>) of an owner's memory under another shape.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly int[] shape;
    // Set on owners only; a view reaches the memory through its owner, so freeing the owner reaches every view.
    private MemoryBuffer1D<float, Stride1D.Dense>? buffer;
    private readonly Tensor? owner;
    // Where a view starts in its owner's memory, in elements (0 for owners and whole-owner views).
    private readonly long offset;
    private bool viewDisposed;

    internal Tensor(Device device, int[] shape)
    {
        Device = device;
        this.shape = CheckedShape(shape);
        Length = shape.Aggregate(1L, (a, d) => checked(a * d));
        buffer = device.Accelerator.Allocate1D<float>(Length);
    }

    private Tensor(Tensor owner, long offset, int[] shape, long length)
    {
        Device = owner.Device;
        this.owner = owner;
        this.offset = offset;
        this.shape = shape;
        Length = length;
    }

    public Device Device { get; }

    /// <summary>A copy of the shape.</summary>
    public int[] Shape => (int[])shape.Clone();

    /// <summary>Dimension <paramref name="axis"/> of the shape, without a copy.</summary>
    public int Dim(int axis) => shape[axis];

    public int Rank => shape.Length;

    public long Length { get; }

    /// <summary>True once this tensor, or for a view the tensor that owns its memory, was disposed.</summary>
    public bool IsDisposed => viewDisposed || (owner ?? this).buffer is null;

    /// <summary>True when this tensor is a <see cref="Reshape"/> view of another tensor's memory.</summary>
    public bool IsView => owner is not null;

    /// <summary>The device memory, for kernels.</summary>
    // ILGPU's own type, for kernels and benchmarks; hidden from IntelliSense, where users need Allocate and Ops.
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public ArrayView1D<float, Stride1D.Dense> View => IsWhole ? Buffer.View : Buffer.View.SubView(offset, Length);

    /// <summary>The device memory as a contiguous view, the form the kernels take.</summary>
    internal ArrayView<float> Flat => View.AsContiguous();

    /// <summary>True when this tensor covers all of its owner's memory (owners, and <see cref="Reshape"/> views of them).</summary>
    private bool IsWhole => offset == 0 && Length == (owner ?? this).Length;

    internal MemoryBuffer1D<float, Stride1D.Dense> Buffer
    {
        get
        {
            if (viewDisposed) throw new ObjectDisposedException(nameof(Tensor), $"The view {ShapeText} was disposed.");
            if (owner is null) return buffer ?? throw new ObjectDisposedException(nameof(Tensor), "The tensor was disposed (or its model was).");
            return owner.buffer ?? throw new ObjectDisposedException(nameof(Tensor),
                $"The tensor {owner.ShapeText} that owns the memory of the view {ShapeText} was disposed (or its model was).");
        }
    }

    /// <summary>True when both tensors are, or view, overlapping parts of the same device memory.</summary>
    internal bool SharesMemory(Tensor other) =>
        ReferenceEquals(owner ?? this, other.owner ?? other) && offset < other.offset + other.Length && other.offset < offset + Length;

    /// <summary>
    /// A view of this tensor's device memory under <paramref name="shape"/>, which must hold the same number of
    /// elements (e.g. logits [N, K, 1, 1] as [N, K]). Nothing is copied: writes through either tensor are seen
    /// by the other, and every operation takes views like any tensor. The view does not own the memory:
    /// disposing it leaves this tensor usable, while disposing the owner disposes every view of it (their
    /// members then throw <see cref="ObjectDisposedException"/>). A view of a view refers to the owner.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is not positive, or the element counts differ.</exception>
    /// <exception cref="ObjectDisposedException">This tensor (or its owner) was disposed.</exception>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        string target = $"[{string.Join(", ", shape)}]";
        if (shape.Length == 0 || shape.Any(d => d <= 0))
        {
            throw new ArgumentException($"Reshape: {target} needs positive dimensions to view the tensor {ShapeText}.", nameof(shape));
        }
        long length = shape.Aggregate(1L, (a, d) => checked(a * d));
        if (length != Length)
        {
            throw new ArgumentException($"Reshape: {target} holds {length} elements, but the tensor {ShapeText} holds {Length}.", nameof(shape));
        }
        _ = Buffer;
        return new Tensor(owner ?? this, offset, (int[])shape.Clone(), length);
    }

    /// <summary>
    /// A view of <paramref name="shape"/>'s element count of this tensor's memory, starting <paramref name="start"/>
    /// elements in: how a <see cref="ParameterArena"/> hands each parameter its part of one contiguous buffer.
    /// The view shares the memory and the lifetime rules of <see cref="Reshape"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The slice does not lie inside this tensor.</exception>
    internal Tensor Slice(long start, params int[] shape)
    {
        var checkedShape = CheckedShape(shape);
        long length = checkedShape.Aggregate(1L, (a, d) => checked(a * d));
        if (start < 0 || start + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start,
                $"Slice: [{string.Join(", ", checkedShape)}] at element {start} does not fit in the tensor {ShapeText}.");
        }
        _ = Buffer;
        return new Tensor(owner ?? this, offset + start, checkedShape, length);
    }

    private static int[] CheckedShape(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape.Any(d => d <= 0))
        {
            throw new ArgumentException($"A tensor shape needs positive dimensions, got [{string.Join(", ", shape)}].", nameof(shape));
        }
        return (int[])shape.Clone();
    }

    /// <summary>
    /// The memory as a host span when the tensor lives on the CPU accelerator (its buffers are host
    /// memory), for host-parallel launchers; throws on other devices.
    /// </summary>
    public unsafe Span<float> HostSpan
    {
        get
        {
            if (!Device.IsCpu) throw new InvalidOperationException("HostSpan exists only for tensors on the CPU accelerator.");
            return new Span<float>((float*)Buffer.NativePtr + offset, checked((int)Length));
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
        Flat.CopyFromCPU(ref MemoryMarshal.GetReference(values), values.Length);
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
        Flat.CopyToCPU(ref MemoryMarshal.GetReference(destination), destination.Length);
    }

    /// <summary>The shape as text, e.g. "[64, 32, 16, 16]", for messages.</summary>
    public string ShapeText => $"[{string.Join(", ", shape)}]";

    public override string ToString() => $"Tensor{ShapeText} on {Device.Kind}";

    /// <summary>Frees the memory of an owner (and so disposes its views); a view only stops being usable.</summary>
    public void Dispose()
    {
        if (owner is not null)
        {
            viewDisposed = true;
            return;
        }
        buffer?.Dispose();
        buffer = null;
    }
}
