extern alias Generator;

using Igcv2.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using GeneratorDiagnosticInfo = Generator::Igcv2.Generators.DiagnosticInfo;

namespace Igcv2.CodeFixes.Tests;

/// <summary>Each fix, applied by the Roslyn code-fix test harness and checked against the generator's verdict on the result.</summary>
public class SuggestedKCodeFixTests
{
    private static string Network(string layers) => $$"""
        using Igcv2;

        namespace Tests;

        [Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 10)]
        [Stem(64)]
        {{layers}}
        public partial class Net { }
        """;

    private static Task Fix(string before, string after, DiagnosticResult[] expected, DiagnosticResult[]? remaining = null, int index = 0, string? key = null)
    {
        var test = new FixTest
        {
            TestCode = before,
            FixedCode = after,
            CodeActionIndex = key is null ? index : null,
            CodeActionEquivalenceKey = key,
        };
        test.ExpectedDiagnostics.AddRange(expected);
        test.FixedState.ExpectedDiagnostics.AddRange(remaining ?? []);
        return test.RunAsync();
    }

    [Fact]
    public Task IGCV001_gets_the_complementary_K() => Fix(
        Network("[{|#0:Stage(64, Blocks = 2, K = [1, 4, 4])|}]"),
        Network("[Stage(64, Blocks = 2, K = [1, 8, 8])]"),
        [DiagnosticResult.CompilerError("IGCV001").WithLocation(0)],
        key: SuggestedKCodeFixProvider.UseSuggestedKKey);

    [Fact]
    public Task IGCV001_can_be_accepted_with_Loose() => Fix(
        Network("[{|#0:Stage(64, Blocks = 2, K = [1, 4, 4])|}]"),
        Network("[{|#0:Stage(64, Blocks = 2, K = [1, 4, 4], Loose = true)|}]"),
        [DiagnosticResult.CompilerError("IGCV001").WithLocation(0)],
        // Loose keeps the finding visible, as a warning.
        [DiagnosticResult.CompilerWarning("IGCV001").WithLocation(0)],
        key: SuggestedKCodeFixProvider.SetLooseKey);

    [Fact]
    public Task Loose_false_is_turned_true_in_place() => Fix(
        Network("[{|#0:Stage(64, Loose = false, K = [1, 4, 4])|}]"),
        Network("[{|#0:Stage(64, Loose = true, K = [1, 4, 4])|}]"),
        [DiagnosticResult.CompilerError("IGCV001").WithLocation(0)],
        [DiagnosticResult.CompilerWarning("IGCV001").WithLocation(0)],
        key: SuggestedKCodeFixProvider.SetLooseKey);

    [Fact]
    public Task IGCV002_gets_the_complementary_K() => Fix(
        Network("[{|#0:Stage(64, Blocks = 2, K = [1, 8, 16])|}]"),
        Network("[Stage(64, Blocks = 2, K = [1, 8, 8])]"),
        [DiagnosticResult.CompilerWarning("IGCV002").WithLocation(0)]);

    [Fact]
    public Task IGCV003_gets_the_K_that_fits() => Fix(
        Network("[{|#0:Stage(64, Blocks = 2, K = [1, 8, 7])|}]"),
        Network("[Stage(64, Blocks = 2, K = [1, 8, 8])]"),
        [DiagnosticResult.CompilerError("IGCV003").WithLocation(0)]);

    [Fact]
    public Task IGCV005_gets_the_balanced_K() => Fix(
        Network("[Stage(64, K = [1, 8, 8])]\n[{|#0:Stage(256, Blocks = 2, K = [1, 32, 8], Stride = 2)|}]"),
        Network("[Stage(64, K = [1, 8, 8])]\n[Stage(256, Blocks = 2, K = [1, 16, 16], Stride = 2)]"),
        [DiagnosticResult.CompilerWarning("IGCV005").WithLocation(0)]);

    [Fact]
    public Task An_array_written_with_new_stays_an_array_creation() => Fix(
        Network("[{|#0:Stage(64, Blocks = 2, K = new[] { 1, 4, 4 })|}]"),
        Network("[Stage(64, Blocks = 2, K = new[] { 1, 8, 8 })]"),
        [DiagnosticResult.CompilerError("IGCV001").WithLocation(0)],
        key: SuggestedKCodeFixProvider.UseSuggestedKKey);

    [Fact]
    public Task The_grouped_head_gets_its_complementary_K()
    {
        static string Head(string head) => $$"""
            using Igcv2;

            namespace Tests;

            [Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 16)]
            [Stem(64)]
            [Stage(64, K = [1, 8, 8])]
            {{head}}
            public partial class Net { }
            """;
        return Fix(
            Head("[{|#0:Classifier(K = [16, 16])|}]"),
            Head("[Classifier(K = [4, 16])]"),
            [DiagnosticResult.CompilerWarning("IGCV002").WithLocation(0)]);
    }

    [Fact]
    public async Task Fix_all_gives_each_stage_its_own_K()
    {
        var test = new FixTest
        {
            TestCode = Network("[{|#0:Stage(64, Blocks = 2, K = [1, 4, 4])|}]\n[{|#1:Stage(128, Blocks = 2, K = [1, 4, 4], Stride = 2)|}]"),
            FixedCode = Network("[Stage(64, Blocks = 2, K = [1, 8, 8])]\n[Stage(128, Blocks = 2, K = [1, 8, 16], Stride = 2)]"),
            CodeActionEquivalenceKey = SuggestedKCodeFixProvider.UseSuggestedKKey,
            NumberOfFixAllIterations = 1,
        };
        test.ExpectedDiagnostics.Add(DiagnosticResult.CompilerError("IGCV001").WithLocation(0));
        test.ExpectedDiagnostics.Add(DiagnosticResult.CompilerError("IGCV001").WithLocation(1));
        await test.RunAsync();
    }

    [Fact]
    public Task A_finding_reported_on_a_Variant_gets_no_fix_there()
    {
        // Only the 16-channel variant's first block is sparse (16 -> 8, each output reaches 8 inputs): IGCV001 on
        // [Variant]. Loose and K belong to [Stage], which the 8-channel declaration shares, so nothing is written.
        const string source = """
            using Igcv2;

            namespace Tests;

            [Igcv2Network(InputChannels = 8, InputSize = 8, Classes = 10)]
            [{|#0:Variant("Wide", InputChannels = 16)|}]
            [Stage(8, K = [1, 4, 2])]
            public partial class Net { }
            """;
        var test = new FixTest { TestCode = source, FixedCode = source };
        test.ExpectedDiagnostics.Add(DiagnosticResult.CompilerError("IGCV001").WithLocation(0));
        test.FixedState.ExpectedDiagnostics.Add(DiagnosticResult.CompilerError("IGCV001").WithLocation(0));
        return test.RunAsync();
    }

    [Fact]
    public void The_fixer_reads_the_property_the_generator_writes() =>
        Assert.Equal(GeneratorDiagnosticInfo.SuggestedKProperty, SuggestedKCodeFixProvider.SuggestedKProperty);

    [Fact]
    public void It_fixes_exactly_the_ids_that_propose_a_K() =>
        Assert.Equal(["IGCV001", "IGCV002", "IGCV003", "IGCV005"], new SuggestedKCodeFixProvider().FixableDiagnosticIds.Order());
}
