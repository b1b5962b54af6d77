extern alias Generator;

using Basic.Reference.Assemblies;
using Igcv2.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Igcv2NetworkGenerator = Generator::Igcv2.Generators.Igcv2NetworkGenerator;

namespace Igcv2.CodeFixes.Tests;

/// <summary>
/// The Roslyn code-fix test over the real generator: its diagnostics are the ones fixed, and the fixed code is
/// run through it again (the K the fix wrote must satisfy the generator). References are .NET 10's and the
/// Igcv2 runtime's, from disk: nothing is downloaded.
/// </summary>
internal sealed class FixTest : CSharpCodeFixTest<EmptyDiagnosticAnalyzer, SuggestedKCodeFixProvider, DefaultVerifier>
{
    public FixTest()
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(Net100.References.All);
        TestState.AdditionalReferences.Add(typeof(StageAttribute).Assembly);
        // The generated halves are the generator tests' business; here only the diagnostics and the fix are.
        TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
    }

    protected override IEnumerable<Type> GetSourceGenerators() => [typeof(Igcv2NetworkGenerator)];
}
