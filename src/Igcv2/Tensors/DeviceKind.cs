namespace Igcv2;

/// <summary>Which accelerator a <see cref="Device"/> runs on.</summary>
public enum DeviceKind
{
    /// <summary>CUDA when an NVIDIA GPU is usable, else the CPU; IGCV2_DEVICE=cpu|cuda overrides.</summary>
    Auto,

    /// <summary>ILGPU's CPU accelerator (and host-parallel launchers over its buffers).</summary>
    Cpu,

    /// <summary>ILGPU's CUDA backend.</summary>
    Cuda,
}
