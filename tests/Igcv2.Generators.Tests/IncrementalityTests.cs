extern alias Generator;

using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Steps = Generator::Igcv2.Generators.Igcv2NetworkGenerator.Steps;

namespace Igcv2.Generators.Tests;

/// <summary>
/// The pipeline caches on values (ComputeSharp's Test_ComputeShaderDescriptorGenerator_Incrementality):
/// an edit that does not touch a network leaves every tracked step Cached or Unchanged, an edit of K
/// modifies it, and no symbol, syntax node, compilation or location travels through the tracked steps.
/// </summary>
public class IncrementalityTests
{
    private static readonly string[] OurSteps = [Steps.Parse, Steps.Models, Steps.Diagnostics, Steps.Orphans, Steps.Rejected, Steps.Variants];

    private static (GeneratorRunResult First, GeneratorRunResult Second) RunTwice(string before, Func<Compilation, Compilation> edit)
    {
        var compilation = GeneratorHarness.Compilation(before);
        var driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        driver = driver.RunGenerators(edit(compilation));
        return (first, driver.GetRunResult().Results.Single());
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    private static Compilation ReplaceText(Compilation compilation, string oldText, string newText)
    {
        var tree = compilation.SyntaxTrees.First();
        var text = tree.GetText();
        var at = text.ToString().IndexOf(oldText, StringComparison.Ordinal);
        Assert.True(at >= 0, oldText);
        return compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(text.WithChanges(new TextChange(new TextSpan(at, oldText.Length), newText))));
    }

    [Fact]
    public void A_class_added_in_another_file_leaves_every_step_cached()
    {
        var (first, second) = RunTwice(Sources.Igcv2C64, c => c.AddSyntaxTrees(GeneratorHarness.Tree("public class Unrelated { public int X; }", 1)));
        Assert.All(Reasons(first, Steps.Parse), r => Assert.Equal(IncrementalStepRunReason.New, r));
        Assert.All(Reasons(second, Steps.Parse), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(Reasons(second, Steps.Models), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(second, Steps.Diagnostics), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.NotEmpty(Reasons(second, Steps.Models));
        Assert.NotEmpty(Reasons(second, Steps.Diagnostics));
    }

    [Fact]
    public void A_comment_after_the_network_leaves_every_step_cached_or_unchanged()
    {
        var (_, second) = RunTwice(Sources.Igcv2C64, c => ReplaceText(c, "public partial class Igcv2C64;", "public partial class Igcv2C64; // the paper's Table 1"));
        Assert.All(Reasons(second, Steps.Parse), r => Assert.Equal(IncrementalStepRunReason.Unchanged, r));
        Assert.All(Reasons(second, Steps.Models), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(second, Steps.Diagnostics), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void A_comment_that_moves_the_diagnostics_modifies_them_but_not_the_model()
    {
        // The C64 net has an IGCV005 on stage 3: a line above it moves the diagnostic, not the source.
        var (_, second) = RunTwice(Sources.Igcv2C64, c => ReplaceText(c, "using Igcv2;", "// The paper's Table 1.\nusing Igcv2;"));
        Assert.All(Reasons(second, Steps.Parse), r => Assert.Equal(IncrementalStepRunReason.Modified, r));
        Assert.All(Reasons(second, Steps.Diagnostics), r => Assert.Equal(IncrementalStepRunReason.Modified, r));
        Assert.All(Reasons(second, Steps.Models), r => Assert.Equal(IncrementalStepRunReason.Unchanged, r));
    }

    [Fact]
    public void Changing_K_modifies_the_model()
    {
        var (_, second) = RunTwice(Sources.Igcv2C64, c => ReplaceText(c, "K = [1, 32, 8]", "K = [1, 16, 16]"));
        Assert.All(Reasons(second, Steps.Parse), r => Assert.Equal(IncrementalStepRunReason.Modified, r));
        Assert.All(Reasons(second, Steps.Models), r => Assert.Equal(IncrementalStepRunReason.Modified, r));
        // The IGCV005 on stage 3 is gone.
        Assert.All(Reasons(second, Steps.Diagnostics), r => Assert.Equal(IncrementalStepRunReason.Modified, r));
        Assert.Empty(second.Diagnostics);
    }

    [Fact]
    public void Tracked_steps_carry_no_symbol_syntax_compilation_or_location()
    {
        // Every step of ours, with a network, a faulty network and an orphan layer in play.
        var source = Sources.Igcv2C64 + """

            [Igcv2Network] [Stem(64)] [Stage(64, K = [1, 4, 4])] public partial class Sparse { }
            [Igcv2Network] [Variant("Wider", Classes = 20)] [Stem(64)] [Stage(64, K = [1, 8, 8])] public partial class Varied { }
            [Stage(64, K = [1, 8, 8])] public partial class Orphan { }
            """;
        var (first, second) = RunTwice(source, c => c.AddSyntaxTrees(GeneratorHarness.Tree("class Unrelated { }", 1)));
        foreach (var result in new[] { first, second })
        {
            foreach (var name in OurSteps)
            {
                Assert.True(result.TrackedSteps.ContainsKey(name), name);
                foreach (var step in result.TrackedSteps[name])
                {
                    foreach (var (value, _) in step.Outputs) AssertNoRoslynObjects(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
                }
            }
        }
    }

    private static readonly Type[] Forbidden = [typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel), typeof(Location), typeof(AttributeData)];

    private static void AssertNoRoslynObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        var type = value.GetType();
        Assert.False(Forbidden.Any(f => f.IsAssignableFrom(type)), $"{path} holds a {type}");
        if (!type.IsValueType && !seen.Add(value)) return;
        if (value is IEnumerable items)
        {
            var i = 0;
            foreach (var item in items) AssertNoRoslynObjects(item, $"{path}[{i++}]", seen);
        }
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                AssertNoRoslynObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
            }
        }
    }
}
