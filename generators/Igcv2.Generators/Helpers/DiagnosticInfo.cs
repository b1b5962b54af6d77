using System;
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

/// <summary>A diagnostic as values, so the pipeline can cache it: descriptor id, severity, location, message.</summary>
internal sealed record DiagnosticInfo(string Id, bool IsError, LocationInfo? Location, string Message)
{
    public Diagnostic ToDiagnostic(Compilation? compilation = null)
    {
        var descriptor = DiagnosticDescriptors.ById(Id) ?? throw new InvalidOperationException("Unknown diagnostic " + Id);
        var severity = IsError ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        var location = Location is null ? null : compilation is null ? Location.ToLocation() : Location.ToLocation(compilation);
        return Diagnostic.Create(descriptor, location, severity, additionalLocations: null, properties: null, Message);
    }

    public static DiagnosticInfo From(DesignIssue issue, LocationInfo? location) =>
        new(issue.Id, issue.IsError, location, issue.Message);
}
