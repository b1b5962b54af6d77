using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Igcv2.Generators.Tests")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Igcv2.CodeFixes.Tests")]

namespace Igcv2.Generators;

/// <summary>
/// Reads [Igcv2Network] classes and their layer attributes, checks the paper's conditions and the shape
/// rules (Parse), reports what is wrong on the offending attribute, and writes the rest of the class
/// (Emit). Diagnostics and source leave the pipeline on separate branches, so a diagnostic that only
/// moves does not re-emit source.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class Igcv2NetworkGenerator : IIncrementalGenerator
{
    internal const string NetworkAttribute = "Igcv2.Igcv2NetworkAttribute";
    internal const string StemAttribute = "Igcv2.StemAttribute";
    internal const string StageAttribute = "Igcv2.StageAttribute";
    internal const string Igcv3StageAttribute = "Igcv2.Igcv3StageAttribute";
    internal const string ClassifierAttribute = "Igcv2.ClassifierAttribute";
    internal const string VariantAttribute = "Igcv2.VariantAttribute";

    /// <summary>Tracking names, asserted by the incrementality tests.</summary>
    internal static class Steps
    {
        public const string Parse = nameof(Parse);
        public const string Models = nameof(Models);
        public const string Diagnostics = nameof(Diagnostics);
        public const string Orphans = nameof(Orphans);
        public const string Rejected = nameof(Rejected);
        public const string Variants = nameof(Variants);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                NetworkAttribute,
                static (node, _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax,
                static (ctx, token) => Parse(ctx, token))
            .WithTrackingName(Steps.Parse);

        var diagnostics = parsed
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(Steps.Diagnostics);
        // Reported against the syntax tree (found by path at this last, cheap step) so that #pragma warning
        // disable and the other source-level suppressions apply to them.
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (spc, pair) =>
        {
            foreach (var diagnostic in pair.Left) spc.ReportDiagnostic(diagnostic.ToDiagnostic(pair.Right));
        });

        var models = parsed
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .WithTrackingName(Steps.Models);
        // A hint name allows no '@': a keyword namespace or class name is escaped in source, not in the file name.
        context.RegisterSourceOutput(models, static (spc, model) => spc.AddSource(model.HintName.Replace("@", ""), Emit(model)));

        // A rejected declaration still gets its members (each throwing why), so its uses compile.
        var rejected = parsed
            .Where(static result => result.Rejected is not null)
            .Select(static (result, _) => result.Rejected!)
            .WithTrackingName(Steps.Rejected);
        context.RegisterSourceOutput(rejected, static (spc, model) => spc.AddSource(model.HintName.Replace("@", ""), EmitRejected(model)));

        // [Variant] classes: the same emitters, one file each.
        var variants = parsed
            .SelectMany(static (result, _) => result.Variants)
            .WithTrackingName(Steps.Variants);
        context.RegisterSourceOutput(variants, static (spc, model) => spc.AddSource(model.HintName.Replace("@", ""), Emit(model)));
        var rejectedVariants = parsed
            .SelectMany(static (result, _) => result.RejectedVariants)
            .WithTrackingName(Steps.Variants);
        context.RegisterSourceOutput(rejectedVariants, static (spc, model) => spc.AddSource(model.HintName.Replace("@", ""), EmitRejected(model)));

        // Layer attributes on a class without [Igcv2Network]: IGCV006 on the first of them.
        foreach (var layer in new[] { StemAttribute, StageAttribute, Igcv3StageAttribute, ClassifierAttribute })
        {
            var orphans = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    layer,
                    static (node, _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax,
                    static (ctx, token) => FindOrphan(ctx, token))
                .Where(static d => d is not null)
                .Select(static (d, _) => d!)
                .WithTrackingName(Steps.Orphans);
            context.RegisterSourceOutput(orphans.Combine(context.CompilationProvider), static (spc, pair) => spc.ReportDiagnostic(pair.Left.ToDiagnostic(pair.Right)));
        }
    }
}
