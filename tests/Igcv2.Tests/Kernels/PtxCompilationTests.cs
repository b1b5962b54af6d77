using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Igcv2.Tests.Kernels;

/// <summary>
/// No GPU here, but ILGPU's PTX backend runs without one: every device kernel must compile to PTX for
/// sm_80 (what Hopper receives), so a construct CUDA cannot take fails here, not on the first GPU run.
/// </summary>
public sealed class PtxCompilationTests
{
    private static Type KernelsType => typeof(Device).Assembly.GetType("Igcv2.Kernels.DeviceKernels", throwOnError: true)!;

    // Public statics of DeviceKernels are kernels: implicitly grouped ones take an Index1D first, the
    // explicitly grouped reductions end in "Grouped".
    private static string[] KernelNames() =>
        KernelsType.GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => m.Name).ToArray();

    public static TheoryData<string> Kernels() => new(KernelNames());

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Device_kernel_compiles_to_ptx(string name)
    {
        var method = KernelsType.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
        bool implicitlyGrouped = method.GetParameters()[0].ParameterType == typeof(Index1D);
        Assert.True(implicitlyGrouped || name.EndsWith("Grouped", StringComparison.Ordinal), $"{name}: neither Index1D-first nor *Grouped");
        AssertCompilesToPtx(implicitlyGrouped
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method));
    }

    /// <summary>The fused ops keep their kernels beside their host loops; every public static ending in "Kernel" is one.</summary>
    private static Type FusedKernelsType => typeof(Device).Assembly.GetType("Igcv2.Kernels.Fused.ShuffleActivation", throwOnError: true)!;

    public static TheoryData<string> FusedKernels() => new(FusedKernelsType
        .GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal)).Select(m => m.Name).ToArray());

    [Theory]
    [MemberData(nameof(FusedKernels))]
    public void Fused_device_kernel_compiles_to_ptx(string name)
    {
        var method = FusedKernelsType.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
        bool implicitlyGrouped = method.GetParameters()[0].ParameterType == typeof(Index1D);
        Assert.True(implicitlyGrouped || name.EndsWith("GroupedKernel", StringComparison.Ordinal), $"{name}: neither Index1D-first nor *GroupedKernel");
        AssertCompilesToPtx(implicitlyGrouped
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method));
    }

    private static void AssertCompilesToPtx(EntryPointDescription entry)
    {
        using var context = Context.Create(builder => builder.Default().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_80),
            CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, nvvmAPI: null);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization(null, null));
        Assert.Contains(".entry", compiled.PTXAssembly);
        Assert.Contains(".target sm_80", compiled.PTXAssembly);
    }

    [Fact]
    public void Reflection_finds_the_kernels_ops_launches()
    {
        var names = KernelNames();
        foreach (var expected in new[] { "Conv2d", "Conv2dBackwardInput", "Conv2dBackwardWeightGrouped", "ChannelShuffle", "BatchNormStatisticsGrouped", "SoftmaxCrossEntropy", "Relu6", "Relu6Backward", "AddBias", "BiasBackward" })
        {
            Assert.Contains(expected, names);
        }
        Assert.Equal(24, names.Length);
        Assert.Equal(5, FusedKernels().Count);
    }
}
