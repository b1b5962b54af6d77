using System.Globalization;
using Igcv2;
using Igcv2.Design;
using Igcv2.Samples;
using Igcv2.Samples.PaperNetworks;

// One table: every network of the paper's Tables 3, 4 and 6 as the generator counted it, beside the paper's
// figures. "As the paper counts" = convolution weights only (no BN, no classifier); Xception's projection
// shortcuts are convolutions too (see the notes printed below the table).
var rows = new List<PaperRow>
{
    Row<XceptionC35D8>("4", "Xception (C35)", 8, XceptionC35D8.Summary, XceptionC35D8.ParameterCount, XceptionC35D8.MultiplyAdds, 0.056, 0.095),
    Row<Igcv2C64D8>("4", "IGCV2 (C64)", 8, Igcv2C64D8.Summary, Igcv2C64D8.ParameterCount, Igcv2C64D8.MultiplyAdds, 0.047, 0.095),
    Row<Igcv2C64ComplementaryD8>("4", "IGCV2 (C64) compl.", 8, Igcv2C64ComplementaryD8.Summary, Igcv2C64ComplementaryD8.ParameterCount, Igcv2C64ComplementaryD8.MultiplyAdds, 0.047, 0.095),
    Row<XceptionC35>("4", "Xception (C35)", 20, XceptionC35.Summary, XceptionC35.ParameterCount, XceptionC35.MultiplyAdds, 0.168, 0.268),
    Row<Igcv2C64D20>("4", "IGCV2 (C64)", 20, Igcv2C64D20.Summary, Igcv2C64D20.ParameterCount, Igcv2C64D20.MultiplyAdds, 0.149, 0.262),
    Row<Igcv2C64>("4", "IGCV2 (C64) compl.", 20, Igcv2C64.Summary, Igcv2C64.ParameterCount, Igcv2C64.MultiplyAdds, 0.149, 0.262),
    Row<XceptionC35D26>("4", "Xception (C35)", 26, XceptionC35D26.Summary, XceptionC35D26.ParameterCount, XceptionC35D26.MultiplyAdds, 0.223, 0.355),
    Row<Igcv2C64D26>("4", "IGCV2 (C64)", 26, Igcv2C64D26.Summary, Igcv2C64D26.ParameterCount, Igcv2C64D26.MultiplyAdds, 0.200, 0.346),
    Row<Igcv2C64ComplementaryD26>("4", "IGCV2 (C64) compl.", 26, Igcv2C64ComplementaryD26.Summary, Igcv2C64ComplementaryD26.ParameterCount, Igcv2C64ComplementaryD26.MultiplyAdds, 0.200, 0.346),

    // Table 6 gives FLOPs in units of 10^7.
    Row<IgcV1C48D8>("6", "IGC-V1 (C48)", 8, IgcV1C48D8.Summary, IgcV1C48D8.ParameterCount, IgcV1C48D8.MultiplyAdds, 0.046, 1.00),
    Row<Igcv2C80D8>("6", "IGCV2 (C80)", 8, Igcv2C80D8.Summary, Igcv2C80D8.ParameterCount, Igcv2C80D8.MultiplyAdds, 0.046, 1.18),
    Row<Igcv2C80ComplementaryD8>("6", "IGCV2 (C80) compl.", 8, Igcv2C80ComplementaryD8.Summary, Igcv2C80ComplementaryD8.ParameterCount, Igcv2C80ComplementaryD8.MultiplyAdds, 0.046, 1.18),
    Row<IgcV1C48>("6", "IGC-V1 (C48)", 20, IgcV1C48.Summary, IgcV1C48.ParameterCount, IgcV1C48.MultiplyAdds, 0.151, 2.89),
    Row<Igcv2C80D20>("6", "IGCV2 (C80)", 20, Igcv2C80D20.Summary, Igcv2C80D20.ParameterCount, Igcv2C80D20.MultiplyAdds, 0.144, 3.20),
    Row<Igcv2C80ComplementaryD20>("6", "IGCV2 (C80) compl.", 20, Igcv2C80ComplementaryD20.Summary, Igcv2C80ComplementaryD20.ParameterCount, Igcv2C80ComplementaryD20.MultiplyAdds, 0.144, 3.20),
    Row<IgcV1C48D26>("6", "IGC-V1 (C48)", 26, IgcV1C48D26.Summary, IgcV1C48D26.ParameterCount, IgcV1C48D26.MultiplyAdds, 0.203, 3.83),
    Row<Igcv2C80D26>("6", "IGCV2 (C80)", 26, Igcv2C80D26.Summary, Igcv2C80D26.ParameterCount, Igcv2C80D26.MultiplyAdds, 0.193, 4.21),
    Row<Igcv2C80ComplementaryD26>("6", "IGCV2 (C80) compl.", 26, Igcv2C80ComplementaryD26.Summary, Igcv2C80ComplementaryD26.ParameterCount, Igcv2C80ComplementaryD26.MultiplyAdds, 0.193, 4.21),

    Row<XceptionC58>("3", "Xception (C58)", 20, XceptionC58.Summary, XceptionC58.ParameterCount, XceptionC58.MultiplyAdds, 0.44, 0.67),
    Row<IgcV1C96>("3", "IGC-V1 (C96)", 20, IgcV1C96.Summary, IgcV1C96.ParameterCount, IgcV1C96.MultiplyAdds, 0.40, 0.82),
    Row<Igcv2StarC216>("3", "IGCV2* (C216)", 20, Igcv2StarC216.Summary, Igcv2StarC216.ParameterCount, Igcv2StarC216.MultiplyAdds, 0.32, 0.76),
    Row<XceptionC71>("3", "Xception (C71)", 20, XceptionC71.Summary, XceptionC71.ParameterCount, XceptionC71.MultiplyAdds, 0.66, 0.98),
    Row<IgcV1C126>("3", "IGC-V1 (C126)", 20, IgcV1C126.Summary, IgcV1C126.ParameterCount, IgcV1C126.MultiplyAdds, 0.60, 1.28),
    Row<Igcv2StarC304>("3", "IGCV2* (C304)", 20, Igcv2StarC304.Summary, Igcv2StarC304.ParameterCount, Igcv2StarC304.MultiplyAdds, 0.48, 1.12),
    Row<XceptionC83>("3", "Xception (C83)", 20, XceptionC83.Summary, XceptionC83.ParameterCount, XceptionC83.MultiplyAdds, 0.89, 1.31),
    Row<IgcV1C150>("3", "IGC-V1 (C150)", 20, IgcV1C150.Summary, IgcV1C150.ParameterCount, IgcV1C150.MultiplyAdds, 0.79, 1.72),
    Row<Igcv2StarC416>("3", "IGCV2* (C416)", 20, Igcv2StarC416.Summary, Igcv2StarC416.ParameterCount, Igcv2StarC416.MultiplyAdds, 0.65, 1.52),
    Row<Igcv2StarC416FirstStageL>("3", "IGCV2* (C416) L* of x", 20, Igcv2StarC416FirstStageL.Summary, Igcv2StarC416FirstStageL.ParameterCount, Igcv2StarC416FirstStageL.MultiplyAdds, 0.65, 1.52),
};

Console.WriteLine("The paper's CIFAR-100 networks (Tables 3, 4, 6) as the generator counts them, beside the paper's figures.");
Console.WriteLine("Params: ParameterCount (all trainable), Weights (Summary: conv + FC weights), As paper (conv weights only).");
Console.WriteLine("Ratios: ours / paper. FLOPs are multiply-adds, in 10^8 for every table.");
Console.WriteLine();
Console.WriteLine(PaperTable.Format(rows));
Console.WriteLine(PaperTable.Notes);

// Tables 9 and 11: the ImageNet networks (224x224, 1000 classes). The paper counts everything here
// (MobileNetV1-1.0's 4.2M includes its FC layer), so ParameterCount and MultiplyAdds are compared directly.
var imageNet = new (string Table, string Network, long Parameters, long MultiplyAdds, double PaperParamsM, double PaperFlopsM)[]
{
    ("9", "MobileNetV1-1.0", MobileNetV1W100.ParameterCount, MobileNetV1W100.MultiplyAdds, 4.2, 569),
    ("9", "IGCV2-1.0", Igcv2W100.ParameterCount, Igcv2W100.MultiplyAdds, 4.1, 564),
    ("9", "MobileNetV1-0.5", MobileNetV1W050.ParameterCount, MobileNetV1W050.MultiplyAdds, 1.3, 149),
    ("9", "IGCV2-0.5", Igcv2W050.ParameterCount, Igcv2W050.MultiplyAdds, 1.3, 156),
    ("9", "MobileNetV1-0.25", MobileNetV1W025.ParameterCount, MobileNetV1W025.MultiplyAdds, 0.5, 41),
    ("9", "IGCV2-0.25", Igcv2W025.ParameterCount, Igcv2W025.MultiplyAdds, 0.5, 46),
    ("11", "MobileNetV2-1.0", MobileNetV2W100.ParameterCount, MobileNetV2W100.MultiplyAdds, 3.4, 300),
    ("11", "IGCV3-1.0", Igcv3W100.ParameterCount, Igcv3W100.MultiplyAdds, 3.5, 320),
    ("11", "MobileNetV2-0.7", MobileNetV2W070.ParameterCount, MobileNetV2W070.MultiplyAdds, 1.9, 160),
    ("11", "IGCV3-0.7", Igcv3W070.ParameterCount, Igcv3W070.MultiplyAdds, 2.0, 170),
};
Console.WriteLine();
Console.WriteLine("The paper's ImageNet networks (Tables 8-11): ParameterCount and MultiplyAdds (per 224x224 image) beside the paper's.");
Console.WriteLine();
Console.WriteLine($"{"Tbl",-4} {"Network",-18} {"Params (M)",10} {"Paper",6} {"ratio",6} {"MAdds (M)",10} {"Paper",6} {"ratio",6}");
foreach (var r in imageNet)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{r.Table,-4} {r.Network,-18} {r.Parameters / 1e6,10:0.000} {r.PaperParamsM,6:0.0} {r.Parameters / 1e6 / r.PaperParamsM,6:0.00} {r.MultiplyAdds / 1e6,10:0.0} {r.PaperFlopsM,6:0} {r.MultiplyAdds / 1e6 / r.PaperFlopsM,6:0.00}"));
}
Console.WriteLine("""

    - MobileNetV1 (Xception blocks, K = [1, C], ReLU after both BNs) lands on the paper's multiply-adds at every width.
    - IGCV2-x uses the nonlinear Figure 5 block with g1 = g2 = 8 branches (K = [1, c_i/8, c_i/8]) and Table 8's last
      row, the IGCV2* head: after the pooling, two 1x1 group convolutions of 8 branches, C -> C -> 1000, BN and P_1
      between them, a bias on the logits ([Classifier(K = [C/8, C/8])]). Its multiply-adds land within 1% at every
      width. Its parameters land at 0.95 for 1.0, and low at 0.5 and 0.25 (0.83, 0.65): Table 9 prints the same
      parameter counts for IGCV2-x as for MobileNet-x, which no construction of Table 8's pattern reaches at the
      smaller widths. The head is dense but redundant (IGCV002: 32 paths per pair at 1.0, the loose condition);
      K = [8, C/8] would be complementary. Eight branches are too many for the narrow first stages of IGCV2-0.5
      and -0.25: the generator reports them sparse (IGCV001), accepted with Loose as the paper's loose condition.
    - IGCV3-x as the authors' code builds it (homles11/IGCV3, symbols/igcv3.py; its released IGCV3-1.0 counts
      3,491,688 parameters and 313.0M multiply-adds): g1 = g2 = 2, two IGCV3 blocks per MobileNetV2 bottleneck
      where it has more than one, the t = 1 block keeping its grouped 1x1, a dense last 1x1 (declared [1, 320],
      +320 channel scales), FC -> 1000. At 0.7 the widths are round(0.7 c) made even, and the last 1x1 is 896:
      with 1280 there no variant goes below 2.45M against the paper's 2.0M (the code keeps 1280 below 1.0, the
      paper's counts cannot have). MobileNetV2 is the same block with G1 = G2 = 1 and ReLU6 after the expansion,
      as the MXNet MobileNetV2 the authors compare with (its t = 1 block has a 1x1 expansion too; it counts
      3.506M / 313.6M at 1.0, against the MobileNetV2 paper's 3.4M / 300M that Table 11 prints).
    """);
return 0;

static PaperRow Row<T>(string table, string network, int depth, ModelSummary summary, long parameterCount, long multiplyAdds,
    double paperParamsMillions, double paperFlops)
{
    // Table 6 prints FLOPs in 10^7, Tables 3 and 4 in 10^8.
    var paperMultiplyAdds = paperFlops * (table == "6" ? 1e7 : 1e8);
    return PaperCounting.Measure(typeof(T).Name, table, network, depth, summary, parameterCount, multiplyAdds,
        paperParamsMillions * 1e6, paperMultiplyAdds);
}
