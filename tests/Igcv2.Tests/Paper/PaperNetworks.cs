// A representative set of samples/Igcv2.PaperNetworks, declared as attributes: the paper's Tables 3, 4 and 6
// networks that the generator accepts without a warning (warnings are errors in this project). The others draw
// the generator's findings on purpose (IGCV002 for IGCV2 (Cx) read literally and IGCV2*, IGCV005 for IGC-V1,
// IGCV001 under Loose) and are counted from their specs in PaperSpecs: NetworkPlan runs the same Design code the
// generator compiles in. The samples' own declarations, findings and all, are compiled by the sample projects
// this project references, and PaperNetworkTrainingTests trains each of them for a step. Table 1's networks at D = 20
// are samples/Igcv2.Table1's own (Table1Networks.cs, visible here), not declared again.

namespace Igcv2.Tests.Paper;

[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(35, Blocks = 2, K = [1, 35])]
[Stage(70, Blocks = 2, K = [1, 70], Stride = 2, Projection = true)]
[Stage(140, Blocks = 2, K = [1, 140], Stride = 2, Projection = true)]
public partial class PaperXceptionC35D8;

[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(35, Blocks = 8, K = [1, 35])]
[Stage(70, Blocks = 8, K = [1, 70], Stride = 2, Projection = true)]
[Stage(140, Blocks = 8, K = [1, 140], Stride = 2, Projection = true)]
public partial class PaperXceptionC35D26;

/// <summary>Table 3's Xception (C83): 35-channel first convolution.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(83, Blocks = 6, K = [1, 83])]
[Stage(166, Blocks = 6, K = [1, 166], Stride = 2, Projection = true)]
[Stage(332, Blocks = 6, K = [1, 332], Stride = 2, Projection = true)]
public partial class PaperXceptionC83;

/// <summary>IGCV2 (C80), complementary reading: 10 * 8 = 80, 16 * 10 = 160, 20 * 16 = 320.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(80)]
[Stage(80, Blocks = 6, K = [1, 10, 8])]
[Stage(160, Blocks = 6, K = [1, 16, 10], Stride = 2)]
[Stage(320, Blocks = 6, K = [1, 20, 16], Stride = 2)]
public partial class PaperIgcv2C80ComplementaryD20;
