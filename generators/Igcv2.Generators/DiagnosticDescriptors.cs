using Microsoft.CodeAnalysis;

namespace Igcv2.Generators;

/// <summary>
/// Every diagnostic the generator reports. Messages are written by the shared design code
/// (Igcv2.Design.NetworkValidator) so that the runtime says the same words when it validates a spec.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Igcv2";

    /// <summary>
    /// Each id's section of the README (its heading "IGCV001" and so on). The same address as the packages'
    /// RepositoryUrl in Directory.Build.props; a test keeps the two equal.
    /// </summary>
    public const string HelpLinkBase = "https://github.com/igcv2gen/Igcv2Gen/blob/main/README.md#";

    public static string HelpLink(string id) => HelpLinkBase + id.ToLowerInvariant();

    public static readonly DiagnosticDescriptor NotDense = new(
        "IGCV001", "The composed kernel is not dense", "{0}", Category, DiagnosticSeverity.Error, true,
        "With the interleaving permutations, some input/output channel pair of the block has no path (paper Condition 1, eq. 6: prod(K) = C).", HelpLink("IGCV001"));

    public static readonly DiagnosticDescriptor Redundant = new(
        "IGCV002", "The composed kernel is dense but not complementary", "{0}", Category, DiagnosticSeverity.Warning, true,
        "Every channel pair is linked, but some by more paths than the complementary condition needs: the block spends weights on redundant paths.", HelpLink("IGCV002"));

    public static readonly DiagnosticDescriptor BadK = new(
        "IGCV003", "K does not fit the channels", "{0}", Category, DiagnosticSeverity.Error, true,
        "Every K_l must be positive and divide the channels its group convolution groups.", HelpLink("IGCV003"));

    public static readonly DiagnosticDescriptor BadL = new(
        "IGCV004", "L does not match K", "{0}", Category, DiagnosticSeverity.Error, true,
        "An IGCV2 block has L >= 2 group convolutions, one K per convolution; L, when given, must equal K.Length.", HelpLink("IGCV004"));

    public static readonly DiagnosticDescriptor Unbalanced = new(
        "IGCV005", "The balance condition is far from met", "{0}", Category, DiagnosticSeverity.Warning, true,
        "Paper eq. (11): S*K_1 = K_2 = ... = K_L minimises the weights of a complementary block.", HelpLink("IGCV005"));

    public static readonly DiagnosticDescriptor BadDeclaration = new(
        "IGCV006", "Invalid IGCV2 network declaration", "{0}", Category, DiagnosticSeverity.Error, true,
        "A network is a top-level, non-generic, non-static partial class with [Igcv2Network] and at least one layer attribute.", HelpLink("IGCV006"));

    public static readonly DiagnosticDescriptor BadSize = new(
        "IGCV007", "Invalid size", "{0}", Category, DiagnosticSeverity.Error, true,
        "Channels, classes, input size and blocks must be positive (and within the supported range); strides are 1 or 2.", HelpLink("IGCV007"));

    public static readonly DiagnosticDescriptor BadLayerOrder = new(
        "IGCV008", "Layer attributes out of order", "{0}", Category, DiagnosticSeverity.Error, true,
        "[Stem] must be the first layer attribute and appear once; [Classifier] must be the last.", HelpLink("IGCV008"));

    public static DiagnosticDescriptor? ById(string id) => id switch
    {
        "IGCV001" => NotDense,
        "IGCV002" => Redundant,
        "IGCV003" => BadK,
        "IGCV004" => BadL,
        "IGCV005" => Unbalanced,
        "IGCV006" => BadDeclaration,
        "IGCV007" => BadSize,
        "IGCV008" => BadLayerOrder,
        _ => null,
    };
}
