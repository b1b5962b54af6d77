extern alias Generator;

using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Igcv2NetworkGenerator = Generator::Igcv2.Generators.Igcv2NetworkGenerator;

namespace Igcv2.Generators.Tests;

/// <summary>
/// Runs the generator the way the compiler does: a <see cref="CSharpGeneratorDriver"/> over a compilation
/// that references .NET 10 and the Igcv2 runtime (the attributes and the types generated code names).
/// </summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(StageAttribute).Assembly.Location),
    ];

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create(
            "Consumer",
            sources.Select((source, i) => Tree(source, i)),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static SyntaxTree Tree(string source, int index = 0) =>
        CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"Network{index}.cs");

    public static GeneratorDriver Driver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new Igcv2NetworkGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackSteps));

    public static GeneratorOutcome Run(params string[] sources)
    {
        var input = Compilation(sources);
        var driver = Driver().RunGeneratorsAndUpdateCompilation(input, out var output, out var driverDiagnostics);
        return new GeneratorOutcome(input, output, driver.GetRunResult(), driverDiagnostics);
    }

    /// <summary>The repository's root: the folder above the test binaries that holds Igcv2Gen.sln.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Igcv2Gen.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Igcv2Gen.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The span of the <paramref name="occurrence"/>-th attribute named <paramref name="name"/> (0-based), as the compiler sees it.</summary>
    public static AttributeSyntax Attribute(SyntaxTree tree, string name, int occurrence = 0) =>
        tree.GetRoot().DescendantNodes().OfType<AttributeSyntax>().Where(a => a.Name.ToString() == name).ElementAt(occurrence);
}

internal sealed record GeneratorOutcome(
    CSharpCompilation Input,
    Compilation Output,
    GeneratorDriverRunResult Result,
    ImmutableArray<Diagnostic> DriverDiagnostics)
{
    /// <summary>What the generator reported (its own ids only).</summary>
    public ImmutableArray<Diagnostic> Diagnostics => Result.Diagnostics;

    public string GeneratedSource(string hintName) =>
        Result.Results.Single().GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    public IEnumerable<string> HintNames => Result.Results.Single().GeneratedSources.Select(s => s.HintName);

    /// <summary>Errors of the compilation with the generated source added, compiler and generator both.</summary>
    public IEnumerable<Diagnostic> OutputErrors =>
        Output.GetDiagnostics().Concat(Diagnostics).Where(d => d.Severity == DiagnosticSeverity.Error);

    public void AssertGeneratorDidNotThrow()
    {
        var result = Assert.Single(Result.Results);
        Assert.Null(result.Exception);
        Assert.DoesNotContain(DriverDiagnostics.Concat(Output.GetDiagnostics()), d => d.Id is "CS8785" or "AD0001");
    }

    /// <summary>Emits the output compilation and loads it into a collectible context; the runtime resolves from the test's own context.</summary>
    public Assembly Load()
    {
        using var image = new MemoryStream();
        var emitted = Output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        image.Position = 0;
        return new AssemblyLoadContext("consumer", isCollectible: true).LoadFromStream(image);
    }
}
