using Igcv2.Design;

namespace Igcv2.Tests.Paper;

/// <summary>How the paper reports a network: #Params in millions and FLOPs (multiply-adds) per image.</summary>
public sealed record PaperFigures(double Parameters, double MultiplyAdds);

/// <summary>
/// One network of the paper's Tables 3, 4 and 6 for CIFAR-100, as Table 1 lays it out: a stem, three stages
/// of <see cref="Blocks"/> blocks at <see cref="Widths"/>, the last two halving the map (with a 1x1 projection on
/// the skip over their first two blocks when <see cref="Projection"/>).
/// </summary>
public sealed record PaperNetwork(
    string Name,
    string Family,
    int Stem,
    int[] Widths,
    int Blocks,
    int[][] K,
    PaperFigures Paper,
    bool Loose = false,
    bool Projection = false,
    bool WidenFirst = false)
{
    public int Depth => 3 * Blocks + 2;

    public NetworkSpec Spec => new(3, 32, 100, new LayerSpec[]
    {
        new StemSpec(Stem),
        new StageSpec(Widths[0], Blocks, K[0].ToEquatableArray()),
        new StageSpec(Widths[1], Blocks, K[1].ToEquatableArray(), Stride: 2, Loose: Loose, Projection: Projection, WidenFirst: WidenFirst),
        new StageSpec(Widths[2], Blocks, K[2].ToEquatableArray(), Stride: 2, Loose: Loose, Projection: Projection, WidenFirst: WidenFirst),
    }.ToEquatableArray());

    public override string ToString() => Name;
}

/// <summary>The networks of samples/Igcv2.PaperNetworks with the paper's figures.</summary>
public static class PaperSpecs
{
    private static readonly Dictionary<int, int> BlocksAtDepth = new() { [8] = 2, [20] = 6, [26] = 8 };

    /// <summary>Xception (Cx): K = [1, C], projection shortcuts on the downsampling stages (what its counts include).</summary>
    public static PaperNetwork Xception(int x, int depth, PaperFigures paper, int stem = 0) =>
        new($"Xception (C{x}) D{depth}", "Xception", stem > 0 ? stem : x, [x, 2 * x, 4 * x], BlocksAtDepth[depth],
            [[1, x], [1, 2 * x], [1, 4 * x]], paper, Projection: true);

    /// <summary>
    /// IGC-V1 (Cx) with the convolutions of the IGC authors' code (plain_igc.py; BN and skips as Table 1): L = x/2 primary branches in every stage
    /// with M = 2, 4, 8 channels each, the secondary 1x1 with M branches of L, so K = [M, x/2]; the primary
    /// group convolution does the widening.
    /// </summary>
    public static PaperNetwork IgcV1(int x, int depth, PaperFigures paper) =>
        new($"IGC-V1 (C{x}) D{depth}", "IGC-V1", x, [x, 2 * x, 4 * x], BlocksAtDepth[depth],
            [[2, x / 2], [4, x / 2], [8, x / 2]], paper, WidenFirst: true);

    /// <summary>IGC-V1 (Cx) as Table 1 draws it: M = 2 in every stage and L doubling, K = [2, C/2].</summary>
    public static PaperNetwork IgcV1Table1(int x, int depth, PaperFigures paper) =>
        new($"IGC-V1 (C{x}) Table 1 D{depth}", "IGC-V1 Table 1", x, [x, 2 * x, 4 * x], BlocksAtDepth[depth],
            [[2, x / 2], [2, x], [2, 2 * x]], paper);

    /// <summary>IGCV2 (Cx), Table 1 read literally: both 1x1 convolutions have K_s channels per branch.</summary>
    public static PaperNetwork Igcv2(int x, int depth, int[] ks, PaperFigures paper) =>
        new($"IGCV2 (C{x}) D{depth}", "IGCV2", x, [x, 2 * x, 4 * x], BlocksAtDepth[depth],
            ks.Select(k => new[] { 1, k, k }).ToArray(), paper);

    /// <summary>IGCV2 (Cx), complementary reading: K = [1, K_s, C/K_s].</summary>
    public static PaperNetwork Igcv2Complementary(int x, int depth, int[] ks, PaperFigures paper) =>
        new($"IGCV2 (C{x}) complementary D{depth}", "IGCV2 complementary", x, [x, 2 * x, 4 * x], BlocksAtDepth[depth],
            ks.Select((k, s) => new[] { 1, k, (x << s) / k }).ToArray(), paper);

    /// <summary>IGCV2* (Cx): K = 8, L* = ceil(log_8 C) + 1 per stage width, a 64-channel stem.</summary>
    public static PaperNetwork Igcv2Star(int x, PaperFigures paper) =>
        new($"IGCV2* (C{x})", "IGCV2*", 64, [x, 2 * x, 4 * x], 6,
            [StarK(x), StarK(2 * x), StarK(4 * x)], paper);

    /// <summary>IGCV2* (Cx) with L* from the first-stage width in every stage (not dense: Loose).</summary>
    public static PaperNetwork Igcv2StarFirstStageL(int x, PaperFigures paper) =>
        new($"IGCV2* (C{x}) L* of x", "IGCV2* L* of x", 64, [x, 2 * x, 4 * x], 6,
            [StarK(x), StarK(x), StarK(x)], paper, Loose: true);

    /// <summary>[1, 8, ..., 8] with L* = ceil(log_8 C) + 1 entries, in integers.</summary>
    public static int[] StarK(int channels)
    {
        var l = 1;
        for (long paths = 1; paths < channels; paths *= 8) l++;
        return [1, .. Enumerable.Repeat(8, l - 1)];
    }

    private static PaperFigures P(double millions, double flops, double unit = 1e8) => new(millions * 1e6, flops * unit);

    public static IReadOnlyList<PaperNetwork> All { get; } =
    [
        // Table 4 (FLOPs x 10^8).
        Xception(35, 8, P(0.056, 0.095)), Xception(35, 20, P(0.168, 0.268)), Xception(35, 26, P(0.223, 0.355)),
        Igcv2(64, 8, [8, 16, 32], P(0.047, 0.095)), Igcv2(64, 20, [8, 16, 32], P(0.149, 0.262)), Igcv2(64, 26, [8, 16, 32], P(0.200, 0.346)),
        Igcv2Complementary(64, 8, [8, 16, 32], P(0.047, 0.095)), Igcv2Complementary(64, 20, [8, 16, 32], P(0.149, 0.262)),
        Igcv2Complementary(64, 26, [8, 16, 32], P(0.200, 0.346)),
        // Table 6 (FLOPs x 10^7).
        IgcV1(48, 8, P(0.046, 1.00, 1e7)), IgcV1(48, 20, P(0.151, 2.89, 1e7)), IgcV1(48, 26, P(0.203, 3.83, 1e7)),
        IgcV1Table1(48, 8, P(0.046, 1.00, 1e7)), IgcV1Table1(48, 20, P(0.151, 2.89, 1e7)), IgcV1Table1(48, 26, P(0.203, 3.83, 1e7)),
        Igcv2(80, 8, [10, 16, 20], P(0.046, 1.18, 1e7)), Igcv2(80, 20, [10, 16, 20], P(0.144, 3.20, 1e7)),
        Igcv2(80, 26, [10, 16, 20], P(0.193, 4.21, 1e7)),
        Igcv2Complementary(80, 8, [10, 16, 20], P(0.046, 1.18, 1e7)), Igcv2Complementary(80, 20, [10, 16, 20], P(0.144, 3.20, 1e7)),
        Igcv2Complementary(80, 26, [10, 16, 20], P(0.193, 4.21, 1e7)),
        // Table 3 (D = 20, FLOPs x 10^8); Xception's first convolution has 35 channels (section 4.3).
        Xception(58, 20, P(0.44, 0.67), stem: 35), Xception(71, 20, P(0.66, 0.98), stem: 35), Xception(83, 20, P(0.89, 1.31), stem: 35),
        IgcV1(96, 20, P(0.40, 0.82)), IgcV1(126, 20, P(0.60, 1.28)), IgcV1(150, 20, P(0.79, 1.72)),
        IgcV1Table1(96, 20, P(0.40, 0.82)), IgcV1Table1(126, 20, P(0.60, 1.28)), IgcV1Table1(150, 20, P(0.79, 1.72)),
        Igcv2Star(216, P(0.32, 0.76)), Igcv2Star(304, P(0.48, 1.12)), Igcv2Star(416, P(0.65, 1.52)),
        Igcv2StarFirstStageL(416, P(0.65, 1.52)),
    ];

    public static PaperNetwork Named(string name) => All.Single(n => n.Name == name);

    public static TheoryData<string> Names(Func<PaperNetwork, bool>? where = null)
    {
        var data = new TheoryData<string>();
        foreach (var n in All.Where(where ?? (_ => true))) data.Add(n.Name);
        return data;
    }
}
