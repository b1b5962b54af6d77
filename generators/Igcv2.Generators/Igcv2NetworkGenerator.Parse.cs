using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Igcv2.Design;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Igcv2.Generators;

public sealed partial class Igcv2NetworkGenerator
{
    /// <summary>
    /// The one semantic step: attributes to a <see cref="NetworkSpec"/>, the spec through the shared
    /// <see cref="NetworkValidator"/>, issues to diagnostics on their attributes. Attributes the compiler
    /// already rejects (half-typed code) make it stay silent: the compiler's own error says enough.
    /// </summary>
    private static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken token)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (TypeDeclarationSyntax)context.TargetNode;
        var networkAttribute = context.Attributes[0];
        var networkLocation = LocationOf(networkAttribute, token);
        var diagnostics = new List<DiagnosticInfo>();

        void Declaration(string message) => diagnostics.Add(new DiagnosticInfo("IGCV006", true, networkLocation, message));
        if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword)) Declaration($"'{symbol.Name}' must be declared partial: the generator writes the rest of the class.");
        if (symbol.ContainingType is not null) Declaration($"'{symbol.Name}' is nested in '{symbol.ContainingType.Name}': declare the network as a top-level class.");
        if (symbol.TypeParameters.Length > 0) Declaration($"'{symbol.Name}' is generic: a network's shapes are fixed at compile time, so it cannot have type parameters.");
        if (symbol.IsStatic) Declaration($"'{symbol.Name}' is static: a network is instantiated on a device.");
        if (symbol.IsRecord) Declaration($"'{symbol.Name}' is a record: declare the network as a partial class.");

        // [Igcv2Network] twice (on two partial declarations) is the compiler's CS0579; generating once per
        // declaration would add the same file twice.
        if (symbol.GetAttributes().Count(a => a.AttributeClass?.ToDisplayString() == NetworkAttribute) > 1)
        {
            return new ParseResult(null, EquatableArray<DiagnosticInfo>.Empty);
        }

        // A class the compiler accepts as a partial top-level class gets its members even when the declaration is
        // rejected: they refuse to run, and the use sites compile, so the one error shown is the one that explains.
        var ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
        var completable = diagnostics.Count == 0;
        ParseResult Rejected(string reason) => new ParseResult(null, diagnostics.ToEquatableArray())
        {
            Rejected = completable ? new RejectedModel(ns, Identifier(symbol.Name), $"{symbol.Name} was not generated: {reason}") : null,
        };
        const string AttributeErrors = "its attributes do not compile (see the compiler's errors on them).";

        if (HasErrors(networkAttribute)) return Rejected(AttributeErrors);

        var layers = new List<LayerSpec>();
        var layerLocations = new List<LocationInfo?>();
        foreach (var attribute in symbol.GetAttributes())
        {
            token.ThrowIfCancellationRequested();
            var name = attribute.AttributeClass?.ToDisplayString();
            if (name is not (StemAttribute or StageAttribute or Igcv3StageAttribute or ClassifierAttribute)) continue;
            if (HasErrors(attribute)) return Rejected(AttributeErrors);
            layers.Add(name switch
            {
                StemAttribute => ReadStem(attribute),
                StageAttribute => ReadStage(attribute),
                Igcv3StageAttribute => ReadIgcv3Stage(attribute),
                ClassifierAttribute => new ClassifierSpec(ReadK(attribute), Named(attribute, "Loose", false)),
                _ => throw new System.InvalidOperationException("Unreachable: the filter above admits only the layer attributes."),
            });
            layerLocations.Add(LocationOf(attribute, token));
        }

        var spec = new NetworkSpec(
            Named(networkAttribute, "InputChannels", NetworkDefaults.InputChannels),
            Named(networkAttribute, "InputSize", NetworkDefaults.InputSize),
            Named(networkAttribute, "Classes", NetworkDefaults.Classes),
            layers.ToEquatableArray(),
            Named(networkAttribute, "Recompute", true));

        var result = NetworkValidator.Validate(spec);
        foreach (var issue in result.Issues)
        {
            var location = issue.LayerIndex >= 0 && issue.LayerIndex < layerLocations.Count ? layerLocations[issue.LayerIndex] : networkLocation;
            diagnostics.Add(DiagnosticInfo.From(issue, location));
        }

        var declarationFailed = result.Plan is null || diagnostics.Any(d => d.IsError);
        var declarationErrors = diagnostics.Where(d => d.IsError).Select(d => d.Id + ": " + d.Message).ToList();
        var (variants, rejectedVariants) = ReadVariants(symbol, spec, layerLocations, ns, completable, diagnostics, token);
        if (declarationFailed)
        {
            return Rejected("the declaration is rejected. " + string.Join(" ", declarationErrors)) with
            {
                Variants = variants,
                RejectedVariants = rejectedVariants,
            };
        }
        return new ParseResult(new NetworkModel(ns, Identifier(symbol.Name), result.Plan!), diagnostics.ToEquatableArray())
        {
            Variants = variants,
            RejectedVariants = rejectedVariants,
        };
    }

    /// <summary>
    /// Each [Variant]: the declaration's layers with the variant's sizes, validated on their own. A finding the
    /// declaration already has is reported once; one that only the variant has goes on the [Variant] attribute,
    /// named for it (without a K to apply there: the fix belongs on the layer, which the declaration shares).
    /// </summary>
    private static (EquatableArray<NetworkModel> Valid, EquatableArray<RejectedModel> Rejected) ReadVariants(
        INamedTypeSymbol symbol, NetworkSpec spec, List<LocationInfo?> layerLocations, string? ns, bool completable,
        List<DiagnosticInfo> diagnostics, CancellationToken token)
    {
        var valid = new List<NetworkModel>();
        var rejected = new List<RejectedModel>();
        var names = new HashSet<string>(System.StringComparer.Ordinal) { symbol.Name };
        var modifiers = symbol.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";
        foreach (var attribute in symbol.GetAttributes())
        {
            token.ThrowIfCancellationRequested();
            if (attribute.AttributeClass?.ToDisplayString() != VariantAttribute || HasErrors(attribute)) continue;
            var location = LocationOf(attribute, token);
            var name = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string : null;
            if (name is null || !SyntaxFacts.IsValidIdentifier(name) || !names.Add(name))
            {
                diagnostics.Add(new DiagnosticInfo("IGCV006", true, location,
                    $"[Variant(\"{name}\")] on '{symbol.Name}': a variant's name is the class it generates, so it must be a C# identifier that neither the declaration nor another variant uses."));
                continue;
            }

            int Or(string property, int declared) => Named(attribute, property, 0) is var value && value != 0 ? value : declared;
            var stemStride = Named(attribute, "StemStride", 0);
            var layers = spec.Layers.Select(l => stemStride != 0 && l is StemSpec stem ? stem with { Stride = stemStride } : l).ToEquatableArray();
            var variant = new NetworkSpec(Or("InputChannels", spec.InputChannels), Or("InputSize", spec.InputSize), Or("Classes", spec.Classes), layers, spec.Recompute);
            var result = NetworkValidator.Validate(variant);
            var errors = new List<string>();
            if (stemStride != 0 && !spec.Layers.Any(l => l is StemSpec))
            {
                diagnostics.Add(new DiagnosticInfo("IGCV007", true, location, $"{name}: StemStride is {stemStride}, but '{symbol.Name}' has no [Stem]."));
                errors.Add("IGCV007: StemStride without a [Stem].");
            }
            foreach (var issue in result.Issues)
            {
                if (issue.IsError) errors.Add(issue.Id + ": " + issue.Message);
                var layerLocation = issue.LayerIndex >= 0 && issue.LayerIndex < layerLocations.Count ? layerLocations[issue.LayerIndex] : null;
                var asDeclared = DiagnosticInfo.From(issue, layerLocation);
                if (layerLocation is not null && diagnostics.Contains(asDeclared)) continue;
                diagnostics.Add(new DiagnosticInfo(issue.Id, issue.IsError, location, name + ": " + issue.Message));
            }

            if (result.Plan is not null && errors.Count == 0)
            {
                valid.Add(new NetworkModel(ns, Identifier(name), result.Plan) { Modifiers = modifiers, VariantOf = Identifier(symbol.Name) });
            }
            else if (completable)
            {
                rejected.Add(new RejectedModel(ns, Identifier(name), $"{name} was not generated: the declaration is rejected. {string.Join(" ", errors)}") { Modifiers = modifiers });
            }
        }
        return (valid.ToEquatableArray(), rejected.ToEquatableArray());
    }

    private static DiagnosticInfo? FindOrphan(GeneratorAttributeSyntaxContext context, CancellationToken token)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        if (symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == NetworkAttribute)) return null;
        var first = symbol.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() is StemAttribute or StageAttribute or Igcv3StageAttribute or ClassifierAttribute);

        // The [Stem] and the [Stage] pipelines (and every partial declaration) all see the class: only the
        // call whose matched attributes include the first layer reports, so the class gets one IGCV006.
        if (first?.ApplicationSyntaxReference is not { } firstSyntax
            || !context.Attributes.Any(a => a.ApplicationSyntaxReference is { } r && r.SyntaxTree == firstSyntax.SyntaxTree && r.Span == firstSyntax.Span))
        {
            return null;
        }
        return new DiagnosticInfo("IGCV006", true, LocationOf(first, token),
            $"'{symbol.Name}' has layer attributes but no [Igcv2Network(InputChannels = ..., InputSize = ..., Classes = ...)]: add it before the layers.");
    }

    /// <summary>The name as C# source writes it: <c>@class</c> for a class named <c>class</c>.</summary>
    private static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static Igcv3StageSpec ReadIgcv3Stage(AttributeData attribute) => new(
        Constructor(attribute),
        Named(attribute, "Blocks", NetworkDefaults.Blocks),
        Named(attribute, "Expansion", 6),
        Named(attribute, "G1", 2),
        Named(attribute, "G2", 2),
        Named(attribute, "Stride", NetworkDefaults.Stride),
        Named(attribute, "Nonlinear", false),
        Named(attribute, "Loose", false));

    private static StemSpec ReadStem(AttributeData attribute) =>
        new(Constructor(attribute), Named(attribute, "Stride", NetworkDefaults.Stride));

    private static StageSpec ReadStage(AttributeData attribute)
    {
        int? l = null;
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == "L" && pair.Value.Value is int given) l = given;
        }
        return new StageSpec(
            Constructor(attribute),
            Named(attribute, "Blocks", NetworkDefaults.Blocks),
            ReadK(attribute),
            l,
            Named(attribute, "Stride", NetworkDefaults.Stride),
            Named(attribute, "SkipEvery", NetworkDefaults.SkipEvery),
            Named(attribute, "Loose", false),
            Named(attribute, "Nonlinear", false),
            Named(attribute, "Spatial", true),
            Named(attribute, "Projection", false),
            Named(attribute, "WidenFirst", false));
    }

    /// <summary>The named K = [...] argument; empty when left out (or null).</summary>
    private static EquatableArray<int> ReadK(AttributeData attribute)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == "K" && pair.Value.Kind == TypedConstantKind.Array && !pair.Value.IsNull)
            {
                return pair.Value.Values.Select(v => v.Value is int i ? i : 0).ToEquatableArray();
            }
        }
        return EquatableArray<int>.Empty;
    }

    private static int Constructor(AttributeData attribute) =>
        attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is int value ? value : 0;

    private static T Named<T>(AttributeData attribute, string name, T fallback)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == name && pair.Value.Value is T value) return value;
        }
        return fallback;
    }

    /// <summary>Whether the compiler already reports this attribute (bad type, missing or mistyped arguments).</summary>
    private static bool HasErrors(AttributeData attribute)
    {
        if (attribute.AttributeClass is null or IErrorTypeSymbol || attribute.AttributeConstructor is null) return true;
        static bool Bad(TypedConstant c) => c.Kind == TypedConstantKind.Error || (c.Kind == TypedConstantKind.Array && !c.IsNull && c.Values.Any(Bad));
        return attribute.ConstructorArguments.Any(Bad) || attribute.NamedArguments.Any(p => Bad(p.Value));
    }

    private static LocationInfo? LocationOf(AttributeData attribute, CancellationToken token) =>
        LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(token));
}
