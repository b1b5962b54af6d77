using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Igcv2.Kernels;

namespace Igcv2;

/// <summary>
/// An ILGPU accelerator that models, tensors and kernels live on. <see cref="Create"/> picks CUDA when a
/// usable NVIDIA GPU is present and the CPU accelerator otherwise; it can be forced either way in code or
/// with the environment variable IGCV2_DEVICE=cpu|cuda.
/// </summary>
public sealed class Device : IDisposable
{
    public const string EnvironmentVariable = "IGCV2_DEVICE";

    private bool disposed;
    private Ops? ops;

    private Device(Context context, Accelerator accelerator, DeviceKind kind, CpuLauncher cpuLauncher)
    {
        Context = context;
        Accelerator = accelerator;
        Kind = kind;
        CpuLauncher = cpuLauncher;
    }

    /// <summary><see cref="DeviceKind.Cpu"/> or <see cref="DeviceKind.Cuda"/>: what was picked.</summary>
    public DeviceKind Kind { get; }

    /// <summary>The accelerator's name, e.g. "NVIDIA H200" or "CPUAccelerator".</summary>
    public string Name => Accelerator.Name;

    // ILGPU's own type, for kernels and benchmarks; hidden from IntelliSense, where users need Allocate and Ops.
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public Context Context { get; }

    // ILGPU's own type, for kernels and benchmarks; hidden from IntelliSense, where users need Allocate and Ops.
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public Accelerator Accelerator { get; }

    public bool IsCpu => Kind == DeviceKind.Cpu;

    /// <summary>How <see cref="Ops"/> runs when this is a CPU device (ignored on CUDA).</summary>
    public CpuLauncher CpuLauncher { get; }

    /// <summary>The kernels, bound to this device's accelerator (created on first use).</summary>
    public Ops Ops
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return ops ??= new Ops(this);
        }
    }

    /// <summary>Creates a device; <paramref name="kind"/> Auto honours IGCV2_DEVICE, then prefers CUDA.</summary>
    public static Device Create(DeviceKind kind = DeviceKind.Auto) => Create(kind, CpuLauncher.HostParallel);

    /// <summary>Creates a device whose CPU kernels run with <paramref name="cpuLauncher"/> (benchmarks, tests).</summary>
    public static Device Create(DeviceKind kind, CpuLauncher cpuLauncher) => Create(kind, cpuLauncher, cudaDevice: 0);

    /// <summary>
    /// Creates a device on CUDA GPU <paramref name="cudaDevice"/> (modulo the GPUs present) when CUDA is picked: a
    /// data-parallel process passes its local rank, so the processes of a node use its GPUs in turn.
    /// </summary>
    public static Device Create(DeviceKind kind, CpuLauncher cpuLauncher, int cudaDevice)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cudaDevice);
        if (kind == DeviceKind.Auto) kind = ParseKind(Environment.GetEnvironmentVariable(EnvironmentVariable));
        CudaLibrary.EnsureResolver();
        var context = Context.Create(builder => builder.Default().EnableAlgorithms());
        try
        {
            if (kind != DeviceKind.Cpu)
            {
                var cuda = context.GetCudaDevices();
                if (cuda.Count > 0)
                {
                    return new Device(context, cuda[cudaDevice % cuda.Count].CreateAccelerator(context), DeviceKind.Cuda, cpuLauncher);
                }
                if (kind == DeviceKind.Cuda)
                {
                    throw new InvalidOperationException(
                        "DeviceKind.Cuda was requested but ILGPU finds no CUDA device: check that the NVIDIA driver " +
                        "(libcuda.so.1) is installed and a GPU is visible, or use DeviceKind.Cpu / IGCV2_DEVICE=cpu.");
                }
            }
            return new Device(context, context.CreateCPUAccelerator(0), DeviceKind.Cpu, cpuLauncher);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Allocates an uninitialised float32 tensor of <paramref name="shape"/> (NCHW for images).</summary>
    public Tensor Allocate(params int[] shape)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new Tensor(this, shape);
    }

    /// <summary>
    /// Allocates room for <paramref name="count"/> class indices (int32), the labels the loss and the metrics read
    /// beside logits [count, classes].
    /// </summary>
    public Labels AllocateLabels(int count)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return new Labels(this, count);
    }

    /// <summary>Waits for every launched kernel to finish.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    public override string ToString() => $"{Kind} ({Name})";

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        ops?.Release();
        Accelerator.Dispose();
        Context.Dispose();
    }

    /// <summary>Reads an IGCV2_DEVICE value: empty or "auto", "cpu", "cuda" (or "gpu"), any case.</summary>
    internal static DeviceKind ParseKind(string? text)
    {
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value) || value.Equals("auto", StringComparison.OrdinalIgnoreCase)) return DeviceKind.Auto;
        if (value.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return DeviceKind.Cpu;
        if (value.Equals("cuda", StringComparison.OrdinalIgnoreCase) || value.Equals("gpu", StringComparison.OrdinalIgnoreCase)) return DeviceKind.Cuda;
        throw new InvalidOperationException($"{EnvironmentVariable}='{value}' is not understood: use cpu, cuda or auto.");
    }

    /// <summary>
    /// ILGPU's CUDA backend on Linux loads "libcuda.so", which many drivers ship only as "libcuda.so.1"
    /// (no -dev package); it then reports no device without a word. Map the name once, before first use.
    /// </summary>
    private static class CudaLibrary
    {
        private static int installed;

        public static void EnsureResolver()
        {
            if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref installed, 1) == 1) return;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // ILGPU (on WSL) or the host already installed a resolver: keep theirs.
            }
        }

        private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
        {
            if (name is "cuda" or "libcuda" or "libcuda.so")
            {
                foreach (var candidate in new[] { "libcuda.so", "libcuda.so.1" })
                {
                    if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
                }
            }
            return IntPtr.Zero;
        }
    }
}
