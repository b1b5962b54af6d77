using System.Globalization;
using Microsoft.CodeAnalysis;

namespace Igcv2.Generators.Tests;

/// <summary>Declarations the generator has got wrong before: each test names the bug it pins down.</summary>
public class EdgeCaseTests
{
    [Fact]
    public void Layers_without_Igcv2Network_split_over_partial_declarations_get_one_IGCV006_on_the_first_layer()
    {
        var run = GeneratorHarness.Run(
            "using Igcv2; [Stem(64)] public partial class Net { }",
            "using Igcv2; [Stage(64, K = [1, 8, 8])] public partial class Net { }");
        run.AssertGeneratorDidNotThrow();
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("IGCV006", d.Id);
        Assert.Equal("Network0.cs", d.Location.GetLineSpan().Path);
    }

    [Fact]
    public void Attributes_split_over_partial_declarations_make_one_network()
    {
        var run = GeneratorHarness.Run(
            "using Igcv2; [Igcv2Network(InputSize = 8)] [Stem(64)] public partial class Net { }",
            "using Igcv2; [Stage(64, K = [1, 8, 8])] public partial class Net { }");
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.Diagnostics);
        Assert.Equal(["Net.g.cs"], run.HintNames);
        Assert.Empty(run.OutputErrors);
    }

    [Fact]
    public void Igcv2Network_on_two_partial_declarations_leaves_the_error_to_the_compiler_and_does_not_throw()
    {
        // Before: two models with one hint name, and AddSource threw (CS8785).
        var run = GeneratorHarness.Run(
            "using Igcv2; [Igcv2Network] [Stem(64)] [Stage(64, K = [1, 8, 8])] public partial class Net { }",
            "using Igcv2; [Igcv2Network] public partial class Net { }");
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.HintNames);
        Assert.Contains(run.Output.GetDiagnostics(), d => d.Id == "CS0579");
    }

    [Fact]
    public void A_record_is_reported_not_ignored()
    {
        var run = GeneratorHarness.Run("using Igcv2; [Igcv2Network] [Stem(64)] [Stage(64, K = [1, 8, 8])] public partial record Net;");
        run.AssertGeneratorDidNotThrow();
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("IGCV006", d.Id);
        Assert.Contains("is a record", d.GetMessage());
    }

    [Fact]
    public void Generated_source_does_not_depend_on_the_compiler_culture()
    {
        // Before: SourceWriter.Line(FormattableString) was never chosen (string wins overload resolution), so
        // "{x:N0}" in the doc comment followed the culture of the machine that compiled.
        var expected = GeneratorHarness.Run(Sources.Igcv2C64).GeneratedSource("Igcv2.Samples.Igcv2C64.g.cs");
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NegativeSign = "~";
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = culture;
            var actual = GeneratorHarness.Run(Sources.Igcv2C64).GeneratedSource("Igcv2.Samples.Igcv2C64.g.cs");
            Assert.Equal(expected, actual);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void A_class_and_namespace_named_by_keywords_generate_compiling_source()
    {
        var run = GeneratorHarness.Run("using Igcv2; namespace @event; [Igcv2Network] [Stem(64)] [Stage(64, K = [1, 8, 8])] public partial class @class { }");
        // Before: the hint name "@event.class.g.cs" made AddSource throw, and "partial class class" did not compile.
        run.AssertGeneratorDidNotThrow();
        Assert.Equal(["event.class.g.cs"], run.HintNames);
        Assert.Empty(run.OutputErrors);
    }

    [Fact]
    public void Non_ascii_names_generate_compiling_source()
    {
        var run = GeneratorHarness.Run("using Igcv2; namespace Réseaux.Ünï; [Igcv2Network] [Stem(64)] [Stage(64, K = [1, 8, 8])] public partial class Netzwerk_Ω { }");
        run.AssertGeneratorDidNotThrow();
        Assert.Single(run.HintNames);
        Assert.Empty(run.OutputErrors);
    }

    [Fact]
    public void The_widest_supported_complementary_stage_is_checked_without_runaway_work()
    {
        // 65536 = 256 * 256: the connectivity walk is near its work budget.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = GeneratorHarness.Run("using Igcv2; [Igcv2Network(InputChannels = 65536, InputSize = 1)] [Stage(65536, Blocks = 2, K = [1, 256, 256])] public partial class Wide { }");
        run.AssertGeneratorDidNotThrow();
        Assert.DoesNotContain(run.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        // Catches runaway work (the analysis is bounded by Connectivity.WorkBudget), not a speed target.
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), clock.Elapsed.ToString());
    }
}
