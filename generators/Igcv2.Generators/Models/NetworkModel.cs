using Igcv2.Design;

namespace Igcv2.Generators;

/// <summary>What the emitter needs of a valid network class: its name and its plan. Values only.</summary>
internal sealed record NetworkModel(string? Namespace, string ClassName, NetworkPlan Plan)
{
    public string HintName => Hint(Namespace, ClassName);

    /// <summary>For a [Variant]: the declaring class's accessibility ("public"), since no user-written part declares this one.</summary>
    public string? Modifiers { get; init; }

    /// <summary>For a [Variant]: the class whose declaration it repeats.</summary>
    public string? VariantOf { get; init; }

    public static string Hint(string? ns, string className) => (ns is null ? "" : ns + ".") + className + ".g.cs";
}

/// <summary>
/// A network class the generator rejected but can still complete: every member the valid class would have,
/// each refusing to run with <see cref="Reason"/>, so the diagnostic on the attribute is the only error
/// the user sees (no CS0117/CS1729 at every use of the class). Values only.
/// </summary>
internal sealed record RejectedModel(string? Namespace, string ClassName, string Reason)
{
    public string HintName => NetworkModel.Hint(Namespace, ClassName);

    /// <summary>For a [Variant]: the declaring class's accessibility.</summary>
    public string? Modifiers { get; init; }
}

/// <summary>
/// The transform's result: the model (when the declaration is valid), else the rejected stand-in (when the
/// class's shape allows one), and the diagnostics.
/// </summary>
internal sealed record ParseResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public RejectedModel? Rejected { get; init; }

    /// <summary>The [Variant] classes that pass their checks.</summary>
    public EquatableArray<NetworkModel> Variants { get; init; } = EquatableArray<NetworkModel>.Empty;

    /// <summary>The [Variant] classes that fail theirs: completed with throwing members, as a rejected declaration.</summary>
    public EquatableArray<RejectedModel> RejectedVariants { get; init; } = EquatableArray<RejectedModel>.Empty;
}
