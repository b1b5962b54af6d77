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
    private static readonly Type Marker = typeof(Device).Assembly.GetType("Igcv2.Kernels.DeviceKernelAttribute", throwOnError: true)!;

    private const BindingFlags Statics = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<MethodInfo> StaticMethods() => typeof(Device).Assembly.GetTypes().SelectMany(t => t.GetMethods(Statics));

    /// <summary>Every kernel wherever its op keeps it (an op's file holds its kernel beside its host loop): the methods marked [DeviceKernel].</summary>
    private static MethodInfo[] Marked() => StaticMethods().Where(m => m.IsDefined(Marker, inherit: false)).ToArray();

    private static string Name(MethodInfo m) => m.DeclaringType!.FullName!.Replace("Igcv2.", "", StringComparison.Ordinal) + "." + m.Name;

    public static TheoryData<string> Kernels() => new(Marked().Select(Name).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Device_kernel_compiles_to_ptx(string name)
    {
        var method = Marked().Single(m => Name(m) == name);
        bool implicitlyGrouped = method.GetParameters()[0].ParameterType == typeof(Index1D);
        Assert.True(implicitlyGrouped || method.Name.EndsWith("Grouped", StringComparison.Ordinal) || method.Name.EndsWith("GroupedKernel", StringComparison.Ordinal),
            $"{name}: neither Index1D-first nor *Grouped / *GroupedKernel");
        AssertCompilesToPtx(implicitlyGrouped
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method));
    }

    [Fact]
    public void Every_kernel_shaped_method_is_marked()
    {
        // A kernel left unmarked would escape the PTX check: every static void method that takes an Index1D first, or
        // is named as an explicitly grouped kernel, must carry the marker.
        var unmarked = StaticMethods()
            .Where(m => m.ReturnType == typeof(void) && !m.IsDefined(Marker, inherit: false))
            .Where(m => (m.GetParameters() is [var first, ..] && first.ParameterType == typeof(Index1D))
                || m.Name.EndsWith("Grouped", StringComparison.Ordinal) || m.Name.EndsWith("GroupedKernel", StringComparison.Ordinal))
            .Select(Name)
            .ToArray();
        Assert.Empty(unmarked);
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
        var names = Marked().Select(Name).ToArray();
        foreach (var expected in new[]
        {
            "Kernels.Convolution.ForwardKernel", "Kernels.Convolution.BackwardWeightGrouped", "Kernels.BatchNorm.StatisticsGrouped",
            "Kernels.Activations.ForwardKernel", "Kernels.Activations.BackwardKernel", "Kernels.Loss.SoftmaxCrossEntropyKernel", "Kernels.Interleave.ShuffleKernel", "Kernels.Fused.ShuffleActivation.BatchNormBackwardReduceGroupedKernel",
            "Training.Sgd.UpdateKernel",
        })
        {
            Assert.Contains(expected, names);
        }
        Assert.Equal(28, names.Length);
    }
}
