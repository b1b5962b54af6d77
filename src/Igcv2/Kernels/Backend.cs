using ILGPU;
using ILGPU.Runtime;

namespace Igcv2.Kernels;

/// <summary>
/// One step of an op with its arguments, already checked, and its two bodies: the host loop over the CPU
/// accelerator's memory and the ILGPU launch. <see cref="Backend.Run{TKernel}"/> picks between them, the one
/// place that asks where the op runs (dfdx's per-op kernel trait, with a CPU and a CUDA implementation under it).
/// An op's file under <c>Kernels/Operations/</c> holds its argument checks (the public <see cref="Ops"/> method),
/// the scalar math both bodies call, its host loop, its device kernel and these structs, one per step.
/// </summary>
internal interface IKernel
{
    void OnHost();

    void OnDevice(Backend backend);
}

/// <summary>A step that returns a value to the host (a loss, a count): the device's body synchronises.</summary>
internal interface IKernel<out TResult>
{
    TResult OnHost();

    TResult OnDevice(Backend backend);
}

/// <summary>
/// Marks an ILGPU kernel: the tests compile every method so marked to sm_80 PTX. Implicitly grouped kernels take
/// an <see cref="Index1D"/> first; explicitly grouped ones (the reductions) end in <c>Grouped</c> or <c>GroupedKernel</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class DeviceKernelAttribute : Attribute;

/// <summary>
/// Where <see cref="Ops"/> runs, and what its device launches share: the loaded kernels (each loaded once, on first
/// use), the launch geometry and a scratch buffer for results read back to the host.
/// </summary>
internal sealed class Backend : IDisposable
{
    private readonly Dictionary<System.Reflection.MethodInfo, Delegate> kernels = [];
    private readonly Dictionary<(int, int, int, int), Tensor> scratchTensors = [];
    private readonly Dictionary<(int, int), Tensor> scratchVectors = [];
    private readonly Device device;
    private readonly int residentThreads;
    private MemoryBuffer1D<float, Stride1D.Dense>? scratch;

    public Backend(Device device, bool onHost)
    {
        this.device = device;
        Accelerator = device.Accelerator;
        var accelerator = Accelerator;
        OnHost = onHost;
        // Grid-stride launches: as many threads as the accelerator keeps resident, never one per element.
        residentThreads = Math.Max(1, accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor);
    }

    public Accelerator Accelerator { get; }

    /// <summary>True when the CPU device runs the host loops (<see cref="CpuLauncher.HostParallel"/>).</summary>
    public bool OnHost { get; }

    /// <summary>Runs <paramref name="kernel"/>'s host loop or its device launch.</summary>
    public void Run<TKernel>(in TKernel kernel) where TKernel : struct, IKernel
    {
        if (OnHost) kernel.OnHost();
        else kernel.OnDevice(this);
    }

    /// <summary>Runs <paramref name="kernel"/> and returns its result.</summary>
    public TResult Run<TKernel, TResult>(in TKernel kernel) where TKernel : struct, IKernel<TResult> =>
        OnHost ? kernel.OnHost() : kernel.OnDevice(this);

    /// <summary>
    /// The kernel <paramref name="load"/> loads, loaded on first use and kept (keyed by the loader, so pass a static
    /// lambda: <c>Load(static a =&gt; a.LoadAutoGroupedStreamKernel&lt;...&gt;(Kernel))</c>).
    /// </summary>
    public TDelegate Load<TDelegate>(Func<Accelerator, TDelegate> load) where TDelegate : Delegate
    {
        if (!kernels.TryGetValue(load.Method, out var kernel))
        {
            kernel = load(Accelerator);
            kernels.Add(load.Method, kernel);
        }
        return (TDelegate)kernel;
    }

    /// <summary>The thread count of a grid-stride launch over <paramref name="total"/> items.</summary>
    public int Threads(int total) => Math.Max(1, Math.Min(total, residentThreads));

    /// <summary>
    /// Geometry for a grouped reduction with <paramref name="owners"/> independent sums: groups of up to 256
    /// threads (a whole number of warps), as many groups as stay resident, at most one per owner.
    /// </summary>
    public KernelConfig Groups(int owners)
    {
        int warp = Math.Max(1, Accelerator.WarpSize);
        int size = Math.Max(warp, Math.Min(256, Accelerator.MaxNumThreadsPerGroup) / warp * warp);
        int resident = Math.Max(1, residentThreads / size);
        return new KernelConfig(Math.Max(1, Math.Min(owners, resident)), size);
    }

    /// <summary>A device buffer of at least <paramref name="length"/> floats for results read back (contents undefined).</summary>
    public ArrayView<float> Scratch(int length)
    {
        if (scratch is null || scratch.Length < length)
        {
            scratch?.Dispose();
            scratch = Accelerator.Allocate1D<float>(Math.Max(length, 256));
        }
        return scratch.View.SubView(0, length).AsContiguous();
    }

    /// <summary>Waits for the device and copies <paramref name="view"/> to a new array.</summary>
    public float[] ReadBack(ArrayView<float> view)
    {
        Accelerator.Synchronize();
        var values = new float[view.Length];
        view.CopyToCPU(values);
        return values;
    }

    /// <summary>
    /// A tensor of <paramref name="like"/>'s shape, one per shape, for what a fused op materialises off the host's path:
    /// the gradient synchronised BN reads whole, the device's normalised convolution input.
    /// </summary>
    public Tensor ScratchLike(Tensor like)
    {
        var key = (like.Dim(0), like.Dim(1), like.Dim(2), like.Dim(3));
        if (!scratchTensors.TryGetValue(key, out var t))
        {
            t = device.Allocate(like.Dim(0), like.Dim(1), like.Dim(2), like.Dim(3));
            scratchTensors.Add(key, t);
        }
        return t;
    }

    /// <summary>A vector of <paramref name="length"/> floats, one per (length, slot): per-channel values a device step uploads.</summary>
    public Tensor ScratchVector(int length, int slot)
    {
        if (!scratchVectors.TryGetValue((length, slot), out var t))
        {
            t = device.Allocate(length);
            scratchVectors.Add((length, slot), t);
        }
        return t;
    }

    /// <summary>Frees the scratch buffers (the loaded kernels belong to the accelerator).</summary>
    public void Dispose()
    {
        scratch?.Dispose();
        scratch = null;
        foreach (var t in scratchTensors.Values.Concat(scratchVectors.Values)) t.Dispose();
        scratchTensors.Clear();
        scratchVectors.Clear();
    }
}
