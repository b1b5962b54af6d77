using Igcv2;
using Igcv2.Design;

namespace Igcv2.Samples.DesignStudy;

/// <summary>
/// One network of the study: its design point and a factory. <see cref="Density"/> is the fraction of
/// (input, output) channel pairs of a block that a path connects; <see cref="PathsPerPair"/> is
/// prod(K) / C (1: complementary, above 1: redundant).
/// </summary>
public sealed record Variant(
    string Name,
    int C,
    int[] K,
    ModelSummary Summary,
    NetworkPlan Plan,
    long ParameterCount,
    Func<Device, int, int, IModel> Create)
{
    public int L => K.Length;

    /// <summary>K_2 (the study's K; for Figure 2 every 1x1 convolution has it).</summary>
    public int K2 => K[1];

    public long ProductK => K.Aggregate(1L, (a, b) => a * b);

    public double PathsPerPair => (double)ProductK / C;

    /// <summary>The block's composed connectivity, counted path by path (<see cref="Connectivity"/>).</summary>
    public ConnectivityReport Connectivity { get; } =
        Design.Connectivity.Analyze(Plan.Blocks[0].Convs, Plan.Blocks[0].Permutations)
        ?? throw new InvalidOperationException(Name + ": connectivity too large to count");

    public double Density => Connectivity.Density;

    /// <summary>"complementary", "redundant" (dense, more than one path per pair) or "sparse" (not dense).</summary>
    public string Kind => Connectivity.IsComplementary ? "complementary" : Connectivity.IsDense ? "redundant" : "sparse";

    /// <summary>Weights of one block: C * 9 * K_1 + C * sum_{l>=2} K_l.</summary>
    public long BlockWeights => Summary.Rows.First(r => r.Kind == "Igcv2Block").Weights;

    public string KText => "[" + string.Join(", ", K) + "]";
}

public static class Variants
{
    /// <summary>Figure 3: L = 2..6, balanced and complementary, about equal parameters.</summary>
    public static IReadOnlyList<Variant> VaryL { get; } =
    [
        Make<StudyL2C35>("L2-C35", 35, [1, 35], StudyL2C35.Summary, StudyL2C35.Plan, StudyL2C35.ParameterCount, (d, b, s) => new StudyL2C35(d, b, s)),
        Make<StudyL3C64>("L3-C64", 64, [1, 8, 8], StudyL3C64.Summary, StudyL3C64.Plan, StudyL3C64.ParameterCount, (d, b, s) => new StudyL3C64(d, b, s)),
        Make<StudyL4C75>("L4-C75", 75, [1, 5, 5, 3], StudyL4C75.Summary, StudyL4C75.Plan, StudyL4C75.ParameterCount, (d, b, s) => new StudyL4C75(d, b, s)),
        Make<StudyL5C81>("L5-C81", 81, [1, 3, 3, 3, 3], StudyL5C81.Summary, StudyL5C81.Plan, StudyL5C81.ParameterCount, (d, b, s) => new StudyL5C81(d, b, s)),
        Make<StudyL6C72>("L6-C72", 72, [1, 2, 2, 2, 3, 3], StudyL6C72.Summary, StudyL6C72.Plan, StudyL6C72.ParameterCount, (d, b, s) => new StudyL6C72(d, b, s)),
    ];

    /// <summary>Figure 2: L = 3, K = 4..16 around the complementary K = 8, about equal parameters.</summary>
    public static IReadOnlyList<Variant> VaryK { get; } =
    [
        Make<StudyK4C96>("K4-C96", 96, [1, 4, 4], StudyK4C96.Summary, StudyK4C96.Plan, StudyK4C96.ParameterCount, (d, b, s) => new StudyK4C96(d, b, s)),
        Make<StudyK6C72>("K6-C72", 72, [1, 6, 6], StudyK6C72.Summary, StudyK6C72.Plan, StudyK6C72.ParameterCount, (d, b, s) => new StudyK6C72(d, b, s)),
        VaryL[1],
        Make<StudyK12C48>("K12-C48", 48, [1, 12, 12], StudyK12C48.Summary, StudyK12C48.Plan, StudyK12C48.ParameterCount, (d, b, s) => new StudyK12C48(d, b, s)),
        Make<StudyK16C32>("K16-C32", 32, [1, 16, 16], StudyK16C32.Summary, StudyK16C32.Plan, StudyK16C32.ParameterCount, (d, b, s) => new StudyK16C32(d, b, s)),
    ];

    public static IReadOnlyList<Variant> All { get; } = VaryL.Concat(VaryK).Distinct().ToList();

    private static Variant Make<T>(string name, int c, int[] k, ModelSummary summary, NetworkPlan plan, long parameters, Func<Device, int, int, IModel> create) =>
        new(name, c, k, summary, plan, parameters, create);
}
