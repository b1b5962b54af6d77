using Microsoft.CodeAnalysis;

namespace Igcv2.Generators.Tests;

/// <summary>
/// Every diagnostic id, firing and not firing: its severity, its location (the offending attribute) and
/// the parts of its message a user acts on.
/// </summary>
public class DiagnosticsTests
{
    private static string Network(string layers, string network = "InputChannels = 3, InputSize = 32, Classes = 10", string declaration = "public partial class Net { }") => $$"""
        using Igcv2;

        namespace Tests;

        [Igcv2Network({{network}})]
        {{layers}}
        {{declaration}}
        """;

    private static (GeneratorOutcome Run, SyntaxTree Tree) Run(string source)
    {
        var run = GeneratorHarness.Run(source);
        run.AssertGeneratorDidNotThrow();
        return (run, run.Input.SyntaxTrees.Single());
    }

    /// <summary>The single diagnostic with <paramref name="id"/>, checked to sit on the given attribute.</summary>
    private static Diagnostic Single(GeneratorOutcome run, string id, DiagnosticSeverity severity, SyntaxTree tree, string attribute, int occurrence = 0)
    {
        var diagnostic = Assert.Single(run.Diagnostics, d => d.Id == id);
        Assert.Equal(severity, diagnostic.Severity);
        var expected = GeneratorHarness.Attribute(tree, attribute, occurrence);
        Assert.Equal(tree.FilePath, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(expected.Span, diagnostic.Location.SourceSpan);
        Assert.Equal(expected.GetLocation().GetLineSpan().Span, diagnostic.Location.GetLineSpan().Span);
        return diagnostic;
    }

    private static void None(GeneratorOutcome run, string id) => Assert.DoesNotContain(run.Diagnostics, d => d.Id == id);

    /// <summary>A rejected declaration gets only its throwing stand-in, and the IGCV diagnostics are the only errors.</summary>
    private static void AssertOnlyTheRejectedStub(GeneratorOutcome run)
    {
        Assert.Equal(["Tests.Net.g.cs"], run.HintNames);
        Assert.Contains("Net was not generated: ", run.GeneratedSource("Tests.Net.g.cs"));
        Assert.All(run.OutputErrors, e => Assert.StartsWith("IGCV", e.Id));
    }

    private const string ValidC64 = """
        [Stem(64)]
        [Stage(64, Blocks = 2, K = [1, 8, 8])]
        """;

    // ---- IGCV001: not dense ----

    [Fact]
    public void IGCV001_fires_on_the_sparse_stage_with_prod_K_density_and_a_complementary_K()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Stage(64, Blocks = 2, K = [1, 8, 8])]
            [Stage(64, Blocks = 2, K = [1, 4, 4])]
            """));
        var d = Single(run, "IGCV001", DiagnosticSeverity.Error, tree, "Stage", 1);
        var message = d.GetMessage();
        Assert.Contains("prod(K) = 16 < C = 64", message);
        Assert.Contains("density 0.25", message);
        Assert.Contains("reaches 16 of 64 input channels", message);
        Assert.Contains("K = [1, 8, 8] is complementary", message);
        Assert.Contains("Loose = true", message);
        AssertOnlyTheRejectedStub(run);
    }

    [Fact]
    public void IGCV001_is_a_warning_under_Loose_and_the_network_is_generated()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Stage(64, Blocks = 2, K = [1, 4, 4], Loose = true)]
            """));
        var d = Single(run, "IGCV001", DiagnosticSeverity.Warning, tree, "Stage");
        Assert.Contains("density 0.25", d.GetMessage());
        Assert.Contains("Accepted because Loose = true", d.GetMessage());
        Assert.Equal(["Tests.Net.g.cs"], run.HintNames);
        Assert.Empty(run.OutputErrors);
    }

    [Fact]
    public void IGCV001_reports_the_density_of_the_paper_Igcv2_star_C416_stage_3()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Stage(416, Blocks = 6, K = [1, 8, 8, 8])]
            [Stage(832, Blocks = 6, K = [1, 8, 8, 8], Stride = 2, Loose = true)]
            [Stage(1664, Blocks = 6, K = [1, 8, 8, 8], Stride = 2)]
            """, "InputChannels = 3, InputSize = 32, Classes = 100"));
        var errors = run.Diagnostics.Where(d => d.Id == "IGCV001" && d.Severity == DiagnosticSeverity.Error).ToList();
        var d = Assert.Single(errors);
        Assert.Equal(GeneratorHarness.Attribute(tree, "Stage", 2).Span, d.Location.SourceSpan);
        var message = d.GetMessage();
        Assert.Contains("prod(K) = 512 < C = 1664", message);
        Assert.Contains("block 1 (832 -> 1664): each output channel reaches 512 of 832 input channels (density 0.62)", message);
        Assert.Contains("blocks 2-6 (1664 -> 1664): each output channel reaches 512 of 1664 input channels (density 0.31)", message);

        // Stage 2 under Loose: a warning on the 2nd [Stage], density 512/832.
        var loose = Assert.Single(run.Diagnostics, x => x.Id == "IGCV001" && x.Severity == DiagnosticSeverity.Warning);
        Assert.Equal(GeneratorHarness.Attribute(tree, "Stage", 1).Span, loose.Location.SourceSpan);
        Assert.Contains("density 0.62", loose.GetMessage());
    }

    [Fact]
    public void IGCV001_does_not_fire_when_prod_K_equals_C()
    {
        var (run, _) = Run(Network(ValidC64));
        None(run, "IGCV001");
        Assert.Empty(run.Diagnostics);
    }

    // ---- IGCV002: dense but redundant ----

    [Fact]
    public void IGCV002_fires_when_pairs_have_more_paths_than_needed()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Stage(64, Blocks = 2, K = [1, 8, 16])]
            """));
        var d = Single(run, "IGCV002", DiagnosticSeverity.Warning, tree, "Stage");
        Assert.Contains("prod(K) = 128 > C = 64", d.GetMessage());
        Assert.Contains("linked by 2 paths where 1 would do", d.GetMessage());
        Assert.Contains("K = [1, 8, 8] is complementary", d.GetMessage());
        Assert.Equal(["Tests.Net.g.cs"], run.HintNames);
    }

    [Fact]
    public void IGCV002_does_not_fire_for_a_widening_stage_with_C_out_over_C_in_paths_per_pair()
    {
        // 64 -> 128 with K = [1, 16, 8]: every pair is linked twice in block 1, as complementary as widening allows.
        var (run, _) = Run(Network("""
            [Stem(64)]
            [Stage(128, Blocks = 2, K = [1, 16, 8], Stride = 2)]
            """));
        Assert.Empty(run.Diagnostics);
    }

    // ---- IGCV003: K does not fit ----

    [Fact]
    public void IGCV003_fires_when_K_does_not_divide_C_and_suggests_a_K_that_fits()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Stage(64, Blocks = 2, K = [1, 8, 8])]
            [Stage(64, Blocks = 2, K = [1, 8, 7])]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Stage", 1);
        Assert.Contains("K_3 = 7 does not divide the 64 input channels of block 1", d.GetMessage());
        Assert.Contains("K = [1, 8, 8] fits", d.GetMessage());
        AssertOnlyTheRejectedStub(run);
    }

    [Theory]
    [InlineData("[1, 0, 8]", "holds 0")]
    [InlineData("[1, -8, -8]", "holds -8, -8")]
    [InlineData("[-1, 8, 8]", "holds -1")]
    public void IGCV003_fires_when_a_K_is_not_positive(string k, string part)
    {
        var (run, tree) = Run(Network($"""
            [Stem(64)]
            [Stage(64, Blocks = 2, K = {k})]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Stage");
        Assert.Contains(part, d.GetMessage());
        Assert.Contains("channels per branch must be positive", d.GetMessage());
    }

    [Fact]
    public void IGCV003_fires_when_K_exceeds_the_stage()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Stage(64, K = [1, 128])]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Stage");
        Assert.Contains("K_2 = 128 exceeds the 64 channels", d.GetMessage());
    }

    [Fact]
    public void IGCV003_does_not_fire_for_K_dividing_C()
    {
        var (run, _) = Run(Network(ValidC64));
        None(run, "IGCV003");
    }

    // ---- IGCV004: L and K.Length ----

    [Fact]
    public void IGCV004_fires_when_L_differs_from_K_Length()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Stage(64, K = [1, 8, 8], L = 2)]
            """));
        var d = Single(run, "IGCV004", DiagnosticSeverity.Error, tree, "Stage");
        Assert.Contains("L = 2 but K = [1, 8, 8] lists 3 group convolutions", d.GetMessage());
    }

    [Theory]
    [InlineData("K = [64]", "K = [64] has 1 group convolution(s)")]
    [InlineData("K = []", "K = [] has 0 group convolution(s)")]
    [InlineData("Blocks = 2", "K = [] has 0 group convolution(s)")]
    [InlineData("K = null", "K = [] has 0 group convolution(s)")]
    public void IGCV004_fires_for_fewer_than_two_group_convolutions(string arguments, string part)
    {
        var (run, tree) = Run(Network($"""
            [Stem(64)]
            [Stage(64, {arguments})]
            """));
        var d = Single(run, "IGCV004", DiagnosticSeverity.Error, tree, "Stage");
        Assert.Contains(part, d.GetMessage());
        Assert.Contains("K = [1, 64] (Xception)", d.GetMessage());
    }

    [Fact]
    public void IGCV004_does_not_fire_when_L_equals_K_Length()
    {
        var (run, _) = Run(Network("""
            [Stem(64)]
            [Stage(64, K = [1, 8, 8], L = 3)]
            """));
        Assert.Empty(run.Diagnostics);
    }

    // ---- IGCV005: balance ----

    [Fact]
    public void IGCV005_fires_for_1_32_8_at_C256_and_suggests_the_balanced_K()
    {
        var (run, tree) = Run(Network("""
            [Stem(128)]
            [Stage(256, Blocks = 2, K = [1, 32, 8], Stride = 2)]
            """));
        var d = Single(run, "IGCV005", DiagnosticSeverity.Warning, tree, "Stage");
        var message = d.GetMessage();
        Assert.Contains("K_2..K_L = [32, 8]", message);
        Assert.Contains("K = [1, 16, 16] is complementary", message);
        Assert.Contains("saves 2048 weights per block", message); // 256*(32+8) - 256*(16+16)
        Assert.Equal(["Tests.Net.g.cs"], run.HintNames);
    }

    [Fact]
    public void IGCV005_does_not_fire_for_1_16_16_at_C256()
    {
        var (run, _) = Run(Network("""
            [Stem(128)]
            [Stage(256, Blocks = 2, K = [1, 16, 16], Stride = 2)]
            """));
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public void Table1_C64_yields_only_IGCV005_on_stage_3()
    {
        var run = GeneratorHarness.Run(Sources.Igcv2C64);
        run.AssertGeneratorDidNotThrow();
        var tree = run.Input.SyntaxTrees.Single();
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("IGCV005", d.Id);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal(GeneratorHarness.Attribute(tree, "Stage", 2).Span, d.Location.SourceSpan);
        Assert.Contains("Stage 3 (256 channels), K = [1, 32, 8]", d.GetMessage());
        Assert.Empty(run.OutputErrors);
    }

    // ---- IGCV006: the declaration ----

    [Theory]
    [InlineData("public class Net { }", "must be declared partial")]
    [InlineData("public static partial class Net { }", "is static")]
    [InlineData("public partial class Net<T> { }", "is generic")]
    public void IGCV006_fires_on_a_class_that_cannot_be_generated(string declaration, string part)
    {
        var (run, tree) = Run(Network(ValidC64, declaration: declaration));
        var d = Single(run, "IGCV006", DiagnosticSeverity.Error, tree, "Igcv2Network");
        Assert.Contains(part, d.GetMessage());
        Assert.Empty(run.HintNames);
    }

    [Fact]
    public void IGCV006_fires_on_a_nested_class()
    {
        var (run, tree) = Run("""
            using Igcv2;

            public partial class Outer
            {
                [Igcv2Network]
                [Stem(64)]
                [Stage(64, K = [1, 8, 8])]
                public partial class Net { }
            }
            """);
        var d = Single(run, "IGCV006", DiagnosticSeverity.Error, tree, "Igcv2Network");
        Assert.Contains("'Net' is nested in 'Outer'", d.GetMessage());
        Assert.Empty(run.HintNames);
    }

    [Fact]
    public void IGCV006_fires_on_layers_without_Igcv2Network_once_on_the_first_layer()
    {
        var (run, tree) = Run("""
            using Igcv2;

            [Stem(64)]
            [Stage(64, K = [1, 8, 8])]
            [Stage(64, K = [1, 8, 8])]
            public partial class Net { }
            """);
        var d = Single(run, "IGCV006", DiagnosticSeverity.Error, tree, "Stem");
        Assert.Contains("no [Igcv2Network", d.GetMessage());
    }

    [Fact]
    public void IGCV006_fires_on_Stage_without_Igcv2Network()
    {
        var (run, tree) = Run("""
            using Igcv2;

            [Stage(64, K = [1, 8, 8])]
            public partial class Net { }
            """);
        Single(run, "IGCV006", DiagnosticSeverity.Error, tree, "Stage");
    }

    [Fact]
    public void IGCV006_fires_on_Igcv2Network_without_layers()
    {
        var (run, tree) = Run(Network(""));
        var d = Single(run, "IGCV006", DiagnosticSeverity.Error, tree, "Igcv2Network");
        Assert.Contains("declares no layers", d.GetMessage());
        AssertOnlyTheRejectedStub(run);
    }

    [Fact]
    public void IGCV006_does_not_fire_on_a_top_level_partial_class_with_layers()
    {
        var (run, _) = Run(Network(ValidC64, declaration: "internal sealed partial class Net { }"));
        None(run, "IGCV006");
        Assert.Equal(["Tests.Net.g.cs"], run.HintNames);
    }

    // ---- IGCV007: sizes ----

    [Theory]
    [InlineData("[Stem(64)]\n[Stage(0, K = [1, 8, 8])]", "Stage", 0, "channels is 0: it must be positive")]
    [InlineData("[Stem(-64)]\n[Stage(64, K = [1, 8, 8])]", "Stem", 0, "Stem channels is -64: it must be positive")]
    [InlineData("[Stem(64)]\n[Stage(64, K = [1, 8, 8], Stride = 3)]", "Stage", 0, "Stride is 3: it must be 1 or 2")]
    [InlineData("[Stem(64, Stride = 0)]\n[Stage(64, K = [1, 8, 8])]", "Stem", 0, "Stride is 0: it must be 1 or 2")]
    [InlineData("[Stem(64)]\n[Stage(64, K = [1, 8, 8], SkipEvery = -1)]", "Stage", 0, "SkipEvery is -1")]
    [InlineData("[Stem(64)]\n[Stage(64, Blocks = 0, K = [1, 8, 8])]", "Stage", 0, "Blocks is 0: it must be positive")]
    [InlineData("[Stem(64)]\n[Stage(64, Blocks = -3, K = [1, 8, 8])]", "Stage", 0, "Blocks is -3: it must be positive")]
    [InlineData("[Stem(64)]\n[Stage(131072, K = [1, 8, 8])]", "Stage", 0, "at most 65536 is supported")]
    public void IGCV007_fires_on_the_layer_with_a_bad_size(string layers, string attribute, int occurrence, string part)
    {
        var (run, tree) = Run(Network(layers));
        var d = Single(run, "IGCV007", DiagnosticSeverity.Error, tree, attribute, occurrence);
        Assert.Contains(part, d.GetMessage());
        AssertOnlyTheRejectedStub(run);
    }

    [Theory]
    [InlineData("InputChannels = 0", "InputChannels is 0")]
    [InlineData("InputChannels = -3", "InputChannels is -3")]
    [InlineData("Classes = 0", "Classes is 0")]
    [InlineData("Classes = -10", "Classes is -10")]
    [InlineData("InputSize = 0", "InputSize is 0")]
    [InlineData("InputSize = -32", "InputSize is -32")]
    [InlineData("InputSize = 2147483647", "InputSize is 2147483647: at most 16384")]
    public void IGCV007_fires_on_Igcv2Network_with_a_bad_size(string network, string part)
    {
        var (run, tree) = Run(Network(ValidC64, network));
        var d = Single(run, "IGCV007", DiagnosticSeverity.Error, tree, "Igcv2Network");
        Assert.Contains(part, d.GetMessage());
        AssertOnlyTheRejectedStub(run);
    }

    [Fact]
    public void IGCV007_does_not_fire_on_valid_sizes_and_strides()
    {
        var (run, _) = Run(Network("""
            [Stem(64, Stride = 2)]
            [Stage(64, K = [1, 8, 8], SkipEvery = 0)]
            [Stage(128, K = [1, 16, 8], Stride = 2, SkipEvery = 1)]
            """, "InputChannels = 1, InputSize = 1, Classes = 1"));
        Assert.Empty(run.Diagnostics);
    }

    // ---- IGCV008: layer order ----

    [Fact]
    public void IGCV008_fires_on_a_Stem_after_a_Stage()
    {
        var (run, tree) = Run(Network("""
            [Stage(64, K = [1, 8, 8])]
            [Stem(64)]
            """));
        var d = Single(run, "IGCV008", DiagnosticSeverity.Error, tree, "Stem");
        Assert.Contains("[Stem] must be the first layer attribute", d.GetMessage());
        AssertOnlyTheRejectedStub(run);
    }

    [Fact]
    public void IGCV008_does_not_fire_on_a_network_without_a_Stem_or_with_it_first()
    {
        var (withStem, _) = Run(Network(ValidC64));
        None(withStem, "IGCV008");
        var (withoutStem, _) = Run(Network("[Stage(64, K = [1, 8, 8])]", "InputChannels = 64, InputSize = 8, Classes = 10"));
        Assert.Empty(withoutStem.Diagnostics);
    }

    // ---- IGCV3 stages ----

    [Fact]
    public void Igcv3_stage_with_two_branches_is_dense_and_reports_nothing()
    {
        var (run, _) = Run(Network("""
            [Stem(32)]
            [Igcv3Stage(32, Blocks = 2, Expansion = 6, G1 = 2, G2 = 2)]
            [Igcv3Stage(64, Blocks = 2, Expansion = 6, G1 = 2, G2 = 2, Stride = 2)]
            """));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.OutputErrors);
    }

    [Fact]
    public void IGCV001_fires_on_an_igcv3_stage_whose_branches_never_meet_and_Loose_makes_it_a_warning()
    {
        // G1 = 4 expansion branches and G2 = 4 projection branches over 8 channels: after the shuffle a
        // projection branch draws from two expansion branches, so each output reaches 4 of the 8 inputs.
        const string layers = """
            [Stem(8)]
            [Igcv3Stage(8, Blocks = 1, Expansion = 1, G1 = 4, G2 = 4{0})]
            """;
        var (run, tree) = Run(Network(string.Format(layers, "")));
        var d = Single(run, "IGCV001", DiagnosticSeverity.Error, tree, "Igcv3Stage");
        Assert.Contains("reaches 4 of 8 input channels (density 0.50)", d.GetMessage());

        var (loose, looseTree) = Run(Network(string.Format(layers, ", Loose = true")));
        Single(loose, "IGCV001", DiagnosticSeverity.Warning, looseTree, "Igcv3Stage");
    }

    [Fact]
    public void IGCV003_fires_when_igcv3_branches_do_not_divide_the_channels()
    {
        var (run, tree) = Run(Network("""
            [Stem(12)]
            [Igcv3Stage(20, Blocks = 1, Expansion = 2, G1 = 5, G2 = 2)]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Igcv3Stage");
        Assert.Contains("G1 = 5", d.GetMessage());
    }

    [Fact]
    public void IGCV007_fires_on_an_igcv3_expansion_below_one()
    {
        var (run, tree) = Run(Network("""
            [Stem(16)]
            [Igcv3Stage(16, Expansion = 0)]
            """));
        var d = Single(run, "IGCV007", DiagnosticSeverity.Error, tree, "Igcv3Stage");
        Assert.Contains("Expansion is 0", d.GetMessage());
    }

    [Fact]
    public void IGCV005_uses_S_equal_1_for_a_stage_without_the_3x3()
    {
        // K = [2, 16] at C = 32: with the 3x3 the terms are S*K_1 = 18 and 16 (balanced); without it they
        // are 2 and 16.
        var (spatial, _) = Run(Network("""
            [Stem(32)]
            [Stage(32, Blocks = 1, K = [2, 16])]
            """));
        None(spatial, "IGCV005");

        var (pointwise, tree) = Run(Network("""
            [Stem(32)]
            [Stage(32, Blocks = 1, K = [2, 16], Spatial = false)]
            """));
        var d = Single(pointwise, "IGCV005", DiagnosticSeverity.Warning, tree, "Stage");
        Assert.Contains("all 1x1, S = 1", d.GetMessage());
    }

    // ---- [Classifier]: the IGCV2* head of Table 8 ----

    private const string Table8Head = "InputChannels = 2048, InputSize = 7, Classes = 1000";

    [Fact]
    public void Table8_head_is_dense_but_redundant_and_IGCV002_names_the_complementary_K()
    {
        // g1 = g2 = 8 over 2048 channels: each class's branch reads 256 shuffled channels, 32 from each first
        // branch, so every pair has 32 paths (the paper's loose condition). K = [8, 256] has one path per pair.
        var (run, tree) = Run(Network("[Classifier(K = [256, 256])]", Table8Head));
        var d = Single(run, "IGCV002", DiagnosticSeverity.Warning, tree, "Classifier");
        var message = d.GetMessage();
        Assert.Contains("Classifier (2048 -> 1000), K = [256, 256]", message);
        Assert.Contains("32 paths where 1 would do", message);
        Assert.Contains("K = [8, 256] is complementary", message);
        Assert.Empty(run.OutputErrors);
        Assert.Single(run.HintNames);
    }

    [Fact]
    public void Complementary_head_reports_nothing()
    {
        var (run, _) = Run(Network("[Classifier(K = [8, 256])]", Table8Head));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.OutputErrors);
    }

    [Fact]
    public void IGCV001_fires_on_a_sparse_head_and_Loose_makes_it_a_warning()
    {
        // K = [4, 4] over 64 channels: 16 paths per class at most, so a class reaches 16 of the 64 channels.
        const string layers = """
            [Stem(64)]
            [Classifier(K = [4, 4]{0})]
            """;
        var (run, tree) = Run(Network(string.Format(layers, ""), "InputChannels = 3, InputSize = 8, Classes = 16"));
        var d = Single(run, "IGCV001", DiagnosticSeverity.Error, tree, "Classifier");
        Assert.Contains("each class reaches 16 of 64 pooled channels (density 0.25)", d.GetMessage());
        AssertOnlyTheRejectedStub(run);

        var (loose, looseTree) = Run(Network(string.Format(layers, ", Loose = true"), "InputChannels = 3, InputSize = 8, Classes = 16"));
        Single(loose, "IGCV001", DiagnosticSeverity.Warning, looseTree, "Classifier");
        Assert.Single(loose.HintNames);
    }

    [Fact]
    public void IGCV003_fires_when_the_last_branches_do_not_divide_the_classes()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Classifier(K = [8, 8])]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Classifier");
        Assert.Contains("8 branches (64/K_2), which do not divide the 10 classes", d.GetMessage());
        Assert.Contains("K = [2, 32] is complementary", d.GetMessage());
    }

    [Fact]
    public void IGCV003_fires_when_K_does_not_divide_the_pooled_channels()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Classifier(K = [6, 32])]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Classifier");
        Assert.Contains("K_1 = 6 does not divide the 64 pooled channels", d.GetMessage());
    }

    [Fact]
    public void IGCV004_fires_on_a_head_with_one_group_convolution()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Classifier(K = [8])]
            """));
        var d = Single(run, "IGCV004", DiagnosticSeverity.Error, tree, "Classifier");
        Assert.Contains("at least 2 group convolutions", d.GetMessage());
    }

    [Fact]
    public void IGCV008_fires_on_a_Classifier_before_a_stage()
    {
        var (run, tree) = Run(Network("""
            [Stem(64)]
            [Classifier]
            [Stage(64, K = [1, 8, 8])]
            """));
        var d = Single(run, "IGCV008", DiagnosticSeverity.Error, tree, "Classifier");
        Assert.Contains("[Classifier] must be the last layer attribute", d.GetMessage());
    }

    [Fact]
    public void Classifier_without_K_is_the_fully_connected_layer()
    {
        var (run, _) = Run(Network(ValidC64 + "\n[Classifier]"));
        Assert.Empty(run.Diagnostics);
        var source = run.GeneratedSource("Tests.Net.g.cs");
        Assert.Contains("classifier = core.Linear(\"classifier\", 64, 10);", source);
        Assert.DoesNotContain("classifier_bias", source);
    }

    [Fact]
    public void IGCV006_fires_on_a_Classifier_without_Igcv2Network()
    {
        var (run, tree) = Run("""
            using Igcv2;
            namespace Tests;
            [Classifier(K = [8, 8])]
            public partial class Net { }
            """);
        Single(run, "IGCV006", DiagnosticSeverity.Error, tree, "Classifier");
    }

    // ---- WidenFirst and Projection ----

    [Fact]
    public void WidenFirst_lets_K_1_group_the_stage_width_as_IGC_V1_does()
    {
        // IGC-V1 (C126) stage 2: L = 63 primary branches of M = 4 channels. Widening in the last convolution,
        // K_1 = 4 would have to divide the 126 inputs; widening in the first, its 63 branches read 2 each.
        const string layers = """
            [Stem(126)]
            [Stage(252, Blocks = 2, K = [4, 63], Stride = 2{0})]
            """;
        var (last, tree) = Run(Network(string.Format(layers, ""), "InputChannels = 3, InputSize = 8, Classes = 10"));
        var d = Single(last, "IGCV003", DiagnosticSeverity.Error, tree, "Stage");
        Assert.Contains("K_1 = 4 does not divide the 126 input channels of block 1", d.GetMessage());

        var (first, _) = Run(Network(string.Format(layers, ", WidenFirst = true"), "InputChannels = 3, InputSize = 8, Classes = 10"));
        Assert.DoesNotContain(first.Diagnostics, x => x.Severity == DiagnosticSeverity.Error);
        Assert.Contains("new global::Igcv2.Design.StageSpec(252, 2, global::Igcv2.Design.EquatableArray.Create(4, 63), null, 2, 2, false, false, true, false, true)",
            first.GeneratedSource("Tests.Net.g.cs"));
    }

    [Fact]
    public void IGCV003_fires_when_the_widening_first_convolution_cannot_group_its_inputs()
    {
        var (run, tree) = Run(Network("""
            [Stem(48)]
            [Stage(96, K = [1, 24], WidenFirst = true)]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Stage");
        Assert.Contains("the widening first convolution of block 1 has 96 branches (96/K_1), which do not divide its 48 input channels", d.GetMessage());
    }

    [Fact]
    public void IGCV002_under_WidenFirst_allows_one_path_per_pair()
    {
        // Widening in the first convolution, nothing fans the paths out at the end: prod(K) = C_out is one path
        // per pair, and K = [2, 32] on 16 -> 32 links every pair twice.
        const string layers = """
            [Stem(16)]
            [Stage(32, Blocks = 1, K = [2, {0}], WidenFirst = true)]
            """;
        var (redundant, tree) = Run(Network(string.Format(layers, 32)));
        var d = Single(redundant, "IGCV002", DiagnosticSeverity.Warning, tree, "Stage");
        Assert.Contains("linked by 2 paths where 1 would do", d.GetMessage());

        var (complementary, _) = Run(Network(string.Format(layers, 16)));
        None(complementary, "IGCV002");
    }

    [Fact]
    public void IGCV003_under_WidenFirst_suggests_a_K_whose_first_convolution_can_change_the_width()
    {
        var (run, tree) = Run(Network("""
            [Stem(48)]
            [Stage(96, K = [1, 24], WidenFirst = true)]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Stage");
        // K_1 = 1 would give 96 branches over 48 inputs: the suggestion groups at least 2 outputs per branch.
        var suggestion = System.Text.RegularExpressions.Regex.Match(d.GetMessage(), @"K = \[(\d+), (\d+)\] fits\.");
        Assert.True(suggestion.Success, d.GetMessage());
        Assert.True(int.Parse(suggestion.Groups[1].Value) >= 2, d.GetMessage());
    }

    [Fact]
    public void IGCV003_under_WidenFirst_asks_every_K_to_divide_the_stage_width()
    {
        var (run, tree) = Run(Network("""
            [Stem(48)]
            [Stage(96, K = [5, 24], WidenFirst = true)]
            """));
        var d = Single(run, "IGCV003", DiagnosticSeverity.Error, tree, "Stage");
        Assert.Contains("K_1 = 5 does not divide the 96 channels of the stage", d.GetMessage());
    }

    [Fact]
    public void Projection_keeps_the_skip_over_a_widening_pair_and_counts_it()
    {
        var (plain, _) = Run(Network("""
            [Stem(16)]
            [Stage(32, Blocks = 2, K = [1, 32], Stride = 2)]
            """));
        var (projected, _) = Run(Network("""
            [Stem(16)]
            [Stage(32, Blocks = 2, K = [1, 32], Stride = 2, Projection = true)]
            """));
        Assert.Empty(projected.Diagnostics);
        var source = projected.GeneratedSource("Tests.Net.g.cs");
        Assert.Contains("stage1_block2_shortcut_conv.Forward(ops, a.stem_out, a.stage1_block2_sc, n);", source);
        Assert.DoesNotContain("shortcut", plain.GeneratedSource("Tests.Net.g.cs"));
        // 16 * 32 weights and 2 * 32 BN parameters more.
        static long Count(string generated) => long.Parse(System.Text.RegularExpressions.Regex.Match(generated, @"ParameterCount = (\d+)L").Groups[1].Value);
        Assert.Equal(16 * 32 + 2 * 32, Count(source) - Count(plain.GeneratedSource("Tests.Net.g.cs")));
    }
}
