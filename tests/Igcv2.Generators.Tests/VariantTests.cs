using Microsoft.CodeAnalysis;

namespace Igcv2.Generators.Tests;

/// <summary>
/// One declaration, several data sets: each [Variant] is a network class of its own, with its sizes, its
/// compile-time constants and its own checks; findings it shares with the declaration are reported once.
/// </summary>
public class VariantTests
{
    private static string Network(string variants, string layers = "[Stem(16)]\n[Stage(16, Blocks = 2, K = [1, 4, 4])]", string classes = "10") => $$"""
        using Igcv2;

        namespace Tests;

        [Igcv2Network(InputChannels = 3, InputSize = 8, Classes = {{classes}})]
        {{variants}}
        {{layers}}
        public partial class Net { }
        """;

    private static long Constant(Type type, string name) => (long)type.GetField(name)!.GetRawConstantValue()!;

    [Fact]
    public void Each_variant_is_a_public_network_with_its_own_sizes_and_counts()
    {
        var run = GeneratorHarness.Run(Network("""
            [Variant("Net100", Classes = 100)]
            [Variant("NetLarge", InputSize = 16, StemStride = 2)]
            """));
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.OutputErrors);
        Assert.Equal(["Tests.Net.g.cs", "Tests.Net100.g.cs", "Tests.NetLarge.g.cs"], run.HintNames.Order());

        var assembly = run.Load();
        var net = assembly.GetType("Tests.Net")!;
        var net100 = assembly.GetType("Tests.Net100")!;
        var large = assembly.GetType("Tests.NetLarge")!;
        Assert.True(net100.IsPublic && large.IsPublic);
        Assert.All(new[] { net100, large }, t => Assert.True(typeof(IModel).IsAssignableFrom(t)));
        // Only the classifier differs: 16 -> 100 instead of 16 -> 10, weights and biases.
        Assert.Equal(90 * (16 + 1), Constant(net100, "ParameterCount") - Constant(net, "ParameterCount"));
        // The same weights on a 16x16 image halved by the stem: the same count, the same multiply-adds per position.
        Assert.Equal(Constant(net, "ParameterCount"), Constant(large, "ParameterCount"));
        var spec = (Design.NetworkSpec)large.GetProperty("Spec")!.GetValue(null)!;
        Assert.Equal((16, 10, 2), (spec.InputSize, spec.Classes, ((Design.StemSpec)spec.Layers[0]).Stride));
        Assert.Contains("A [Variant] of <see cref=\"Net\"/>", run.GeneratedSource("Tests.Net100.g.cs"));
    }

    [Fact]
    public void A_finding_the_declaration_shares_is_reported_once()
    {
        // K = [1, 2, 8] at C = 16 is complementary but unbalanced (IGCV005), whatever the classes.
        var run = GeneratorHarness.Run(Network("[Variant(\"Net100\", Classes = 100)]", "[Stem(16)]\n[Stage(16, K = [1, 2, 8])]"));
        run.AssertGeneratorDidNotThrow();
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("IGCV005", d.Id);
        Assert.DoesNotContain("Net100", d.GetMessage());
    }

    [Fact]
    public void A_check_only_a_variant_fails_is_reported_on_its_attribute_and_leaves_the_declaration_whole()
    {
        // Table 8's head in small: the last convolution's 8 branches divide 16 classes but not 10.
        var source = Network("[Variant(\"NetTen\", Classes = 10)]", "[Stem(16)]\n[Stage(16, K = [1, 4, 4])]\n[Classifier(K = [8, 2])]", classes: "16");
        var run = GeneratorHarness.Run(source);
        run.AssertGeneratorDidNotThrow();

        var d = Assert.Single(run.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("IGCV003", d.Id);
        Assert.StartsWith("NetTen: Classifier (16 -> 10)", d.GetMessage());
        var tree = run.Input.SyntaxTrees.Single();
        Assert.Equal(GeneratorHarness.Attribute(tree, "Variant").Span, d.Location.SourceSpan);
        // No K to apply on [Variant]: the code fix would write it there.
        Assert.False(d.Properties.ContainsKey("SuggestedK"));
        Assert.All(run.OutputErrors, e => Assert.StartsWith("IGCV", e.Id));
        Assert.Contains("NetTen was not generated", run.GeneratedSource("Tests.NetTen.g.cs"));
        Assert.DoesNotContain("was not generated", run.GeneratedSource("Tests.Net.g.cs"));
    }

    [Theory]
    [InlineData("[Variant(\"Net\")]")]
    [InlineData("[Variant(\"Not a name\")]")]
    [InlineData("[Variant(\"Twice\")] [Variant(\"Twice\")]")]
    public void A_variant_needs_a_name_of_its_own(string variants)
    {
        var run = GeneratorHarness.Run(Network(variants));
        run.AssertGeneratorDidNotThrow();
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("IGCV006", d.Id);
        Assert.Contains("must be a C# identifier that neither the declaration nor another variant uses", d.GetMessage());
    }

    [Fact]
    public void StemStride_needs_a_stem()
    {
        var run = GeneratorHarness.Run(Network("[Variant(\"Strided\", StemStride = 2)]", "[Stage(16, K = [1, 4, 4])]"));
        run.AssertGeneratorDidNotThrow();
        var d = Assert.Single(run.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("IGCV007", d.Id);
        Assert.Contains("Strided: StemStride is 2", d.GetMessage());
    }
}
