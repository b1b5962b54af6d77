namespace Igcv2.Tests.Export;

// Networks the export tests declare; the generator emits each (and checks it: warnings are errors here,
// so every K is complementary and balanced).

/// <summary>Small, with a stride and a width change: 8 -> 16 channels, 8x8 -> 4x4, skips in both stages.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 5)]
[Stem(8)]
[Stage(8, Blocks = 2, K = [1, 4, 2])]
[Stage(16, Blocks = 2, K = [1, 4, 4], Stride = 2)]
public partial class ExportSmallNet;

/// <summary>
/// One IGCV2 block of width 64 with K = [1, 8, 8] (prod(K) = C: complementary), the paper's C64 first
/// stage; a small input keeps the connectivity walk cheap.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 4, Classes = 2)]
[Stem(64)]
[Stage(64, Blocks = 1, K = [1, 8, 8])]
public partial class ExportOneBlock;

/// <summary>
/// Table 1's IGCV2 (C64) at D = 8 (B = 2 blocks per stage), as the paper declares it: the last stage's
/// K = [1, 32, 8] is unbalanced (IGCV005) but complementary; the pragma accepts that finding here.
/// </summary>
#pragma warning disable IGCV005
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 10)]
[Stem(64)]
[Stage(64, Blocks = 2, K = [1, 8, 8])]
[Stage(128, Blocks = 2, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 2, K = [1, 32, 8], Stride = 2)]
public partial class ExportIgcv2C64D8;
#pragma warning restore IGCV005

/// <summary>The Figure 5 block (BN + ReLU after the spatial conv too), L = 4.</summary>
[Igcv2Network(InputChannels = 1, InputSize = 6, Classes = 3)]
[Stem(27, Stride = 2)]
[Stage(27, Blocks = 2, K = [1, 3, 3, 3], Nonlinear = true)]
public partial class ExportNonlinearNet;

/// <summary>IGCV3 blocks (paper Figure 6): ReLU6 exported as Clip, linear bottleneck, a skip on the shape-keeping block.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 4)]
[Stem(8)]
[Igcv3Stage(16, Blocks = 2, Expansion = 4, G1 = 2, G2 = 2, Stride = 2)]
[Igcv3Stage(16, Blocks = 1, Expansion = 2, G1 = 1, G2 = 1, Nonlinear = true)]
public partial class ExportIgcv3Net;

/// <summary>
/// Table 8's IGCV2* head in small: after the pooling, two 1x1 group convolutions with g1 = g2 = 8 branches,
/// 64 -> 16 classes (K = [8, 8], prod(K) = C: complementary), BN and P_1 between them, a bias on the logits.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 6, Classes = 16)]
[Stem(64, Stride = 2)]
[Stage(64, Blocks = 1, K = [1, 8, 8], Nonlinear = true, SkipEvery = 0)]
[Classifier(K = [8, 8])]
public partial class ExportGroupedHeadNet;

/// <summary>
/// Projection shortcuts (the widening, downsampling block pair's skip is a 1x1 stride-2 conv and BN) on
/// IGC-V1 as its authors build it: the primary 3x3 group convolution widens 8 -> 16 (WidenFirst, 4 branches of 2 -> 4).
/// </summary>
#pragma warning disable IGCV005 // IGC-V1 is unbalanced (S*K_1 against K_2), as the paper says
[Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 5)]
[Stem(8)]
[Stage(8, Blocks = 2, K = [2, 4])]
[Stage(16, Blocks = 2, K = [4, 4], Stride = 2, WidenFirst = true, Projection = true)]
public partial class ExportProjectionNet;
#pragma warning restore IGCV005
