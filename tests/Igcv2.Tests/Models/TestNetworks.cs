using Igcv2;

namespace Igcv2.Tests.Models;

// Small networks that exercise every step the generator emits: stem, stride 2, a width change,
// K_1 > 1 (a non-identity P_1), the nonlinear block (BN + ReLU after W_1), identity skips.

/// <summary>Two stages, stride 2 and a widening block (8 -> 16), K_1 = 1.</summary>
[Igcv2Network(InputChannels = 2, InputSize = 6, Classes = 3)]
[Stem(8)]
[Stage(8, Blocks = 2, K = [1, 4, 2])]
[Stage(16, Blocks = 2, K = [1, 4, 4], Stride = 2)]
public partial class TinyWideningNet;

/// <summary>TinyWideningNet with every convolution's output kept (Recompute = false): the oracle of its recomputed ones.</summary>
[Igcv2Network(InputChannels = 2, InputSize = 6, Classes = 3, Recompute = false)]
[Stem(8)]
[Stage(8, Blocks = 2, K = [1, 4, 2])]
[Stage(16, Blocks = 2, K = [1, 4, 4], Stride = 2)]
public partial class TinyWideningKeptNet;

/// <summary>
/// IGC-V1-like grouped 3x3 (K_1 = 2, so P_1 is a real shuffle; S*K_1 = 18 balances K_2 = 16), the
/// nonlinear block, three blocks with a skip over the first two.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 5, Classes = 4)]
[Stem(32, Stride = 2)]
[Stage(32, Blocks = 3, K = [2, 16], Nonlinear = true)]
public partial class TinyGroupedNet;

/// <summary>No stem: the first block reads the input directly.</summary>
[Igcv2Network(InputChannels = 4, InputSize = 4, Classes = 2)]
[Stage(4, Blocks = 2, K = [1, 2, 2])]
public partial class TinyStemlessNet;

/// <summary>
/// IGCV3 (paper Figure 6): expansion t = 3 over G1 = 2 branches, channel-wise 3x3 with ReLU6, linear G2 = 2
/// projection; the first block widens and halves (no skip), the second keeps its shape (identity skip);
/// the third is MobileNetV2's nonlinear bottleneck (G1 = G2 = 1, ReLU6 after the expansion too).
/// </summary>
[Igcv2Network(InputChannels = 2, InputSize = 6, Classes = 3)]
[Stem(8)]
[Igcv3Stage(12, Blocks = 2, Expansion = 3, G1 = 2, G2 = 2, Stride = 2)]
[Igcv3Stage(12, Blocks = 1, Expansion = 2, G1 = 1, G2 = 1, Nonlinear = true)]
public partial class TinyIgcv3Net;

/// <summary>A widening stage without the 3x3 convolution (Spatial = false: two 1x1 group convolutions, the paper's starred blocks).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 5, Classes = 4)]
[Stem(8)]
[Stage(8, Blocks = 1, K = [1, 4, 2])]
[Stage(16, Blocks = 2, K = [4, 4], Spatial = false, Nonlinear = true)]
public partial class TinyPointwiseNet;

/// <summary>
/// The IGCV2* head (paper Table 8) with L = 3: after the pooling, 1x1 group convolutions K = [2, 2, 4] over
/// 16 channels (BN and a real P_l after the first two), the last to 8 classes plus a bias.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 5, Classes = 8)]
[Stem(8)]
[Stage(16, Blocks = 1, K = [1, 4, 4], Stride = 2)]
[Classifier(K = [2, 2, 4])]
public partial class TinyHeadNet;

/// <summary>
/// Projection shortcuts: the stage after the stem widens 8 -> 16 and halves the map in its first block, so the
/// skip over its first two blocks goes through a 1x1 stride-2 convolution and BN; the skip over the third and
/// fourth blocks is the identity.
/// </summary>
[Igcv2Network(InputChannels = 2, InputSize = 6, Classes = 3)]
[Stem(8)]
[Stage(16, Blocks = 4, K = [1, 4, 4], Stride = 2, Projection = true)]
public partial class TinyProjectionNet;

/// <summary>
/// IGC-V1 as its authors build it (WidenFirst): the primary 3x3 group convolution widens 6 -> 12 with 12/K_1 = 6
/// branches, 1 -> 2 channels each; the secondary 1x1 has 2 branches of 6; the skip over the pair is projected.
/// </summary>
#pragma warning disable IGCV005 // S*K_1 = 18 against K_2 = 6: IGC-V1 is unbalanced, as the paper says
[Igcv2Network(InputChannels = 2, InputSize = 6, Classes = 3)]
[Stem(6)]
[Stage(12, Blocks = 2, K = [2, 6], Stride = 2, WidenFirst = true, Projection = true)]
public partial class TinyWidenFirstNet;
#pragma warning restore IGCV005

/// <summary>Projection without a stem: the skip over three blocks (SkipEvery = 3) starts at the network input and spans the stride.</summary>
[Igcv2Network(InputChannels = 2, InputSize = 6, Classes = 3)]
[Stage(8, Blocks = 3, K = [1, 8], Stride = 2, SkipEvery = 3, Projection = true)]
public partial class TinyStemlessProjectionNet;

/// <summary>
/// A projection at stride 1 (4 -> 8, the map kept), then a stage that narrows 8 -> 4 and halves the map with
/// its first convolution changing the width (WidenFirst) and a projected skip.
/// </summary>
[Igcv2Network(InputChannels = 2, InputSize = 5, Classes = 3)]
[Stem(4)]
[Stage(8, Blocks = 2, K = [1, 8], Projection = true)]
[Stage(4, Blocks = 2, K = [1, 4], Stride = 2, Projection = true, WidenFirst = true)]
public partial class TinyNarrowingNet;

/// <summary>WidenFirst on a 1x1-only nonlinear stage with a projection, three blocks; then a projection after an IGCV3 stage.</summary>
#pragma warning disable IGCV005 // K = [2, 4]: balance is not the point here
[Igcv2Network(InputChannels = 2, InputSize = 6, Classes = 3)]
[Stem(4)]
[Stage(8, Blocks = 3, K = [2, 4], Stride = 2, WidenFirst = true, Nonlinear = true, Spatial = false, Projection = true)]
[Igcv3Stage(8, Blocks = 1, Expansion = 2, G1 = 2, G2 = 2)]
[Stage(16, Blocks = 2, K = [1, 16], Stride = 2, Projection = true)]
public partial class TinyMixedProjectionNet;
#pragma warning restore IGCV005

/// <summary>Odd maps wide enough for Vector512 rows: 21 (a full vector and a masked one), halved to 11 and to 6.</summary>
[Igcv2Network(InputChannels = 2, InputSize = 21, Classes = 3)]
[Stem(8)]
[Stage(16, Blocks = 2, K = [1, 4, 4], Stride = 2)]
[Stage(32, Blocks = 1, K = [2, 16], Stride = 2)]
public partial class TinyOddWideNet;

/// <summary>A stride-2 stem of 3 channels wide enough for two Vector512 column blocks: 37 -> 19, then 19 -> 10.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 37, Classes = 3)]
[Stem(8, Stride = 2)]
[Stage(16, Blocks = 2, K = [1, 4, 4], Stride = 2)]
public partial class TinyWideStrideNet;
