namespace Igcv2.Kernels;

/// <summary>How <see cref="Ops"/> runs on a CPU <see cref="Device"/>. CUDA devices always launch ILGPU kernels.</summary>
public enum CpuLauncher
{
    /// <summary>
    /// Parallel.For over the CPU accelerator's host buffers with vectorised loops (the default: several
    /// times faster than the accelerator's thread emulation, see benchmarks/Igcv2.Benchmarks).
    /// </summary>
    HostParallel,

    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator: the code path CUDA runs, emulated.</summary>
    Accelerator,
}
