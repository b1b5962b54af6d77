using System.Reflection;
using Igcv2.Design;

namespace Igcv2.Generators.Tests;

/// <summary>
/// The generated members compile and hold what the shared design code computes: the assembly is emitted,
/// loaded, and its constants and summary compared with <see cref="NetworkPlan.Create"/> at run time.
/// </summary>
public class GeneratedMembersTests
{
    public static TheoryData<string, string> Networks => new()
    {
        { Sources.Igcv2C64, "Igcv2.Samples.Igcv2C64" },
        { Sources.SmallStrided, "Tests.Small.SmallStrided" },
        { Sources.IgcV1, "Tests.Small.IgcV1Small" },
        { Sources.Xception, "Tests.Small.XceptionSmall" },
        { Sources.GlobalNamespace, "GlobalNet" },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Generated_constants_and_summary_equal_the_plan(string source, string typeName)
    {
        var run = GeneratorHarness.Run(source);
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.OutputErrors);

        var type = run.Load().GetType(typeName, throwOnError: true)!;
        var spec = (NetworkSpec)type.GetProperty("Spec", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        var summary = (ModelSummary)type.GetProperty("Summary", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        var parameterCount = (long)type.GetField("ParameterCount")!.GetRawConstantValue()!;
        var multiplyAdds = (long)type.GetField("MultiplyAdds")!.GetRawConstantValue()!;

        var plan = NetworkPlan.Create(spec);
        Assert.Equal(plan.ParameterCount, parameterCount);
        Assert.Equal(plan.MultiplyAdds, multiplyAdds);
        Assert.Equal(summary.Parameters, parameterCount);
        Assert.Equal(summary.MultiplyAdds, multiplyAdds);
        Assert.Equal(
            plan.Rows.Select(r => new SummaryRow(r.Name, r.Kind, r.InChannels, r.OutChannels, r.K, r.OutputSize, r.Weights, r.Parameters, r.MultiplyAdds)),
            summary.Rows);
    }

    [Fact]
    public void Recompute_false_keeps_every_convolution_output_and_is_in_the_spec()
    {
        var recomputing = GeneratorHarness.Run(Sources.Igcv2C64);
        var keeping = GeneratorHarness.Run(Sources.Igcv2C64.Replace("Classes = 100)", "Classes = 100, Recompute = false)", StringComparison.Ordinal));
        Assert.Empty(keeping.OutputErrors);
        string Model(GeneratorOutcome run) => run.GeneratedSource(run.HintNames.Single());
        Assert.Contains("recomputed_c1_64x32", Model(recomputing), StringComparison.Ordinal);
        Assert.DoesNotContain("recomputed_", Model(keeping), StringComparison.Ordinal);
        Assert.Contains("stage1_block2_c1", Model(keeping), StringComparison.Ordinal);

        var spec = (NetworkSpec)keeping.Load().GetType("Igcv2.Samples.Igcv2C64", throwOnError: true)!.GetProperty("Spec")!.GetValue(null)!;
        Assert.False(spec.Recompute);
    }

    [Fact]
    public void Table1_C64_spec_is_the_declaration()
    {
        var run = GeneratorHarness.Run(Sources.Igcv2C64);
        var type = run.Load().GetType("Igcv2.Samples.Igcv2C64", throwOnError: true)!;
        var spec = (NetworkSpec)type.GetProperty("Spec")!.GetValue(null)!;
        var expected = new NetworkSpec(3, 32, 100, EquatableArray.Create<LayerSpec>(
            new StemSpec(64),
            new StageSpec(64, 6, EquatableArray.Create(1, 8, 8)),
            new StageSpec(128, 6, EquatableArray.Create(1, 16, 8), Stride: 2),
            new StageSpec(256, 6, EquatableArray.Create(1, 32, 8), Stride: 2)));
        Assert.Equal(expected, spec);
        Assert.Equal(146_276L, (long)type.GetField("ParameterCount")!.GetRawConstantValue()!);
    }
}
