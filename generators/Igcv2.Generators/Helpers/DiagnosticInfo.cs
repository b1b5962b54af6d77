using System;
using Igcv2.Design;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Igcv2.Generators;

/// <summary>Where a diagnostic goes, as values (a <see cref="Location"/> would pin the compilation).</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

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
    public Diagnostic ToDiagnostic()
    {
        var descriptor = DiagnosticDescriptors.ById(Id) ?? throw new InvalidOperationException("Unknown diagnostic " + Id);
        var severity = IsError ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        return Diagnostic.Create(descriptor, Location?.ToLocation(), severity, additionalLocations: null, properties: null, Message);
    }

    public static DiagnosticInfo From(DesignIssue issue, LocationInfo? location) =>
        new(issue.Id, issue.IsError, location, issue.Message);
}
