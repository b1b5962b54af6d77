using System.Reflection;
using Microsoft.CodeAnalysis;

namespace Igcv2.Generators.Tests;

/// <summary>
/// A declaration the generator rejects still gets its members, each throwing why: the IGCV diagnostic on the
/// attribute is the only error, not one more at every use of the class (CS0117, CS1729, CS1674).
/// </summary>
public class RejectedDeclarationTests
{
    /// <summary>Every member a user reaches for, used the way the README shows.</summary>
    private const string Uses = """
        namespace Tests;

        public static class Uses
        {
            public const long Count = Net.ParameterCount;

            public static long Run(global::Igcv2.Device device)
            {
                using var model = new Net(device, 8, seed: 1);
                global::Igcv2.IModel asModel = model;
                var logits = model.Forward(device.Allocate(8, 3, 32, 32), training: true);
                model.Backward(logits);
                System.Console.WriteLine(Net.Summary);
                System.Console.WriteLine(Net.Plan.Blocks.Count + Net.Spec.Classes + asModel.Plan.Blocks.Count);
                foreach (var p in model.Parameters) System.Console.WriteLine(p.Name);
                model.ComputeInputGradient = true;
                return Net.ParameterCount + Net.MultiplyAdds + model.BatchSize + model.Buffers.Count + (model.InputGradient is null ? 0 : 1);
            }
        }
        """;

    private static string Network(string layers, string network = "InputChannels = 3, InputSize = 32, Classes = 10") => $$"""
        using Igcv2;

        namespace Tests;

        [Igcv2Network({{network}})]
        {{layers}}
        public partial class Net { }
        """;

    public static TheoryData<string, string, string> Rejected => new()
    {
        { "IGCV001", Network("[Stem(64)]\n[Stage(64, Blocks = 2, K = [1, 4, 4])]"), "prod(K) = 16 < C = 64" },
        { "IGCV003", Network("[Stem(64)]\n[Stage(64, K = [1, 7, 8])]"), "K = [1, 7, 8]" },
        { "IGCV004", Network("[Stem(64)]\n[Stage(64, K = [1, 8, 8], L = 2)]"), "L = 2" },
        { "IGCV006", Network(""), "declares no layers" },
        { "IGCV007", Network("[Stem(64)]\n[Stage(64, K = [1, 8, 8])]", "InputChannels = 3, InputSize = 32, Classes = 0"), "Classes is 0" },
        { "IGCV008", Network("[Stage(64, K = [1, 8, 8])]\n[Stem(64)]"), "[Stem] must be the first" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void A_rejected_declaration_leaves_its_diagnostic_the_only_error(string id, string source, string reason)
    {
        var run = GeneratorHarness.Run(source, Uses);
        run.AssertGeneratorDidNotThrow();

        var errors = run.OutputErrors.ToList();
        Assert.Contains(errors, e => e.Id == id && e.GetMessage().Contains(reason, StringComparison.Ordinal));
        Assert.All(errors, e => Assert.StartsWith("IGCV", e.Id));
        Assert.Contains("Net was not generated: the declaration is rejected. " + id, run.GeneratedSource("Tests.Net.g.cs"));
    }

    [Fact]
    public void Without_the_stand_in_the_uses_would_bury_the_diagnostic()
    {
        // The same uses against a class nobody completes: the errors the stand-in exists to prevent.
        var compilation = GeneratorHarness.Compilation("namespace Tests; public partial class Net { }", Uses);
        var ids = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).ToHashSet();
        Assert.Superset(new HashSet<string> { "CS0117", "CS1729", "CS1674" }, ids);
    }

    [Fact]
    public void An_attribute_the_compiler_rejects_still_gets_the_members_and_only_its_own_error()
    {
        var run = GeneratorHarness.Run(Network("[Stem(64)]\n[Stage(\"64\", K = [1, 8, 8])]"), Uses);
        run.AssertGeneratorDidNotThrow();

        var errors = run.OutputErrors.ToList();
        var error = Assert.Single(errors);
        Assert.Equal("CS1503", error.Id);
        Assert.Equal("Network0.cs", error.Location.GetLineSpan().Path);
        Assert.Contains("its attributes do not compile", run.GeneratedSource("Tests.Net.g.cs"));
    }

    [Fact]
    public void A_rejected_model_refuses_to_run_and_says_why()
    {
        var run = GeneratorHarness.Run(Network("[Stem(64)]\n[Stage(64, Blocks = 2, K = [1, 4, 4])]"));
        run.AssertGeneratorDidNotThrow();
        Assert.Contains(run.Diagnostics, d => d.Id == "IGCV001");

        // The generator's error fails a real build; the compilation itself is whole, so it loads and runs here.
        var type = run.Load().GetType("Tests.Net")!;
        var thrown = Assert.Throws<TargetInvocationException>(() => Activator.CreateInstance(type, [null, 8, 0]));
        var reason = Assert.IsType<InvalidOperationException>(thrown.InnerException);
        Assert.StartsWith("Net was not generated: the declaration is rejected. IGCV001: Stage 1 (64 channels), K = [1, 4, 4]: prod(K) = 16 < C = 64", reason.Message);
        Assert.Contains("K = [1, 8, 8] is complementary", reason.Message);
        var summary = Assert.Throws<TargetInvocationException>(() => type.GetProperty("Summary")!.GetValue(null));
        Assert.Equal(reason.Message, summary.InnerException!.Message);
    }

    [Theory]
    [InlineData("public class Net { }")]
    [InlineData("public static partial class Net { }")]
    [InlineData("public partial record Net { }")]
    public void A_class_that_cannot_be_completed_gets_nothing(string declaration)
    {
        var run = GeneratorHarness.Run($$"""
            using Igcv2;
            namespace Tests;
            [Igcv2Network] [Stem(64)] [Stage(64, K = [1, 8, 8])]
            {{declaration}}
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Contains(run.Diagnostics, d => d.Id == "IGCV006");
        Assert.Empty(run.HintNames);
    }
}
