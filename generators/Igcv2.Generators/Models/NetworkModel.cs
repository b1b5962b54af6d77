using Igcv2.Design;

namespace Igcv2.Generators;

/// <summary>What the emitter needs of a valid network class: its name and its plan. Values only.</summary>
internal sealed record NetworkModel(string? Namespace, string ClassName, NetworkPlan Plan)
{
    public string HintName => (Namespace is null ? "" : Namespace + ".") + ClassName + ".g.cs";
}

/// <summary>The transform's result: the model (when the declaration is valid) and the diagnostics.</summary>
internal sealed record ParseResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
