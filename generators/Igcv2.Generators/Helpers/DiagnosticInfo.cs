using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Igcv2.Design;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Igcv2.Generators;

/// <summary>Where a diagnostic goes, as values (a <see cref="Location"/> would pin the compilation).</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    /// <summary>The location in <paramref name="compilation"/>'s tree of that path (so pragmas apply), else by path.</summary>
    public Location ToLocation(Compilation compilation)
    {
        foreach (var tree in compilation.SyntaxTrees)
        {
            if (tree.FilePath == FilePath && Span.End <= tree.Length) return Location.Create(tree, Span);
        }
        return ToLocation();
    }

    public static LocationInfo? From(SyntaxNode? node)
    {
        if (node is null) return null;
        var location = node.GetLocation();
        return new LocationInfo(location.SourceTree?.FilePath ?? "", location.SourceSpan, location.GetLineSpan().Span);
    }
}

/// <summary>
/// A diagnostic as values, so the pipeline can cache it: descriptor id, severity, location, message, and the
/// K the message proposes (handed to the code fix in <see cref="Diagnostic.Properties"/>).
/// </summary>
internal sealed record DiagnosticInfo(string Id, bool IsError, LocationInfo? Location, string Message)
{
    /// <summary>The key of the proposed K in <see cref="Diagnostic.Properties"/>: its elements, comma-separated ("1,8,8").</summary>
    public const string SuggestedKProperty = "SuggestedK";

    public EquatableArray<int> SuggestedK { get; init; } = EquatableArray<int>.Empty;

    public Diagnostic ToDiagnostic(Compilation? compilation = null)
    {
        var descriptor = DiagnosticDescriptors.ById(Id) ?? throw new InvalidOperationException("Unknown diagnostic " + Id);
        var severity = IsError ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        var location = Location is null ? null : compilation is null ? Location.ToLocation() : Location.ToLocation(compilation);
        var properties = SuggestedK.Count == 0
            ? ImmutableDictionary<string, string?>.Empty
            : ImmutableDictionary<string, string?>.Empty.Add(SuggestedKProperty, string.Join(",", SuggestedK.Select(k => k.ToString(CultureInfo.InvariantCulture))));
        return Diagnostic.Create(descriptor, location, severity, additionalLocations: null, properties, Message);
    }

    public static DiagnosticInfo From(DesignIssue issue, LocationInfo? location) =>
        new(issue.Id, issue.IsError, location, issue.Message) { SuggestedK = issue.SuggestedK };
}
