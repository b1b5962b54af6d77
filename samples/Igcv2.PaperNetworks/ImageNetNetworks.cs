using Igcv2;

namespace Igcv2.Samples.PaperNetworks;

// The paper's ImageNet networks (section 5): 224x224x3 input, 1000 classes, no skips in Table 8's nets.

/// <summary>
/// IGCV2-1.0 (Table 8): the nonlinear block of Figure 5 (channel-wise 3x3, BN, ReLU, 1x1 group conv, BN,
/// permutation, 1x1 group conv, BN, ReLU, permutation), g1 = g2 = 8 branches, so K = [1, c_i/8, c_i/8]
/// (the loose complementary condition: redundant paths, IGCV002), the increase in the last 1x1 group
/// convolution, the MobileNetV1 pattern (no skips). Table 8's last row, the IGCV2* block after the pooling, is
/// the grouped head: two 1x1 group convolutions of 8 branches, 2048 -> 2048 -> 1000 (K = [256, 256]). It is
/// dense but not complementary (32 paths per pair, IGCV002: the loose condition), K = [8, 256] would be.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(64, Stride = 2)]
[Stage(128, K = [1, 8, 8], Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 16, 16], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 32, 32], Nonlinear = true, SkipEvery = 0)]
[Stage(512, K = [1, 32, 32], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(512, K = [1, 64, 64], Nonlinear = true, SkipEvery = 0)]
[Stage(1024, K = [1, 64, 64], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(1024, Blocks = 5, K = [1, 128, 128], Nonlinear = true, SkipEvery = 0)]
[Stage(2048, K = [1, 128, 128], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(2048, K = [1, 256, 256], Nonlinear = true, SkipEvery = 0)]
[Classifier(K = [256, 256])]
public partial class Igcv2W100;

/// <summary>MobileNetV1-1.0 (Table 8): Xception blocks (channel-wise 3x3, BN, ReLU, dense 1x1, BN, ReLU), K = [1, C].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(32, Stride = 2)]
[Stage(64, K = [1, 64], Nonlinear = true, SkipEvery = 0)]
[Stage(128, K = [1, 128], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(128, K = [1, 128], Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 256], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 256], Nonlinear = true, SkipEvery = 0)]
[Stage(512, K = [1, 512], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(512, Blocks = 5, K = [1, 512], Nonlinear = true, SkipEvery = 0)]
[Stage(1024, K = [1, 1024], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(1024, K = [1, 1024], Nonlinear = true, SkipEvery = 0)]
public partial class MobileNetV1W100;

/// <summary>
/// IGCV3-1.0 (Table 10) as the authors' code builds it (homles11/IGCV3, symbols/igcv3.py; its released model
/// counts 3,491,688 parameters): IGCV3 blocks with t = 6 (1 in the first, whose grouped 1x1 is kept), g1 = g2 = 2,
/// two IGCV3 blocks per MobileNetV2 bottleneck where it has more than one, skips where the shape is kept; the
/// last 1x1 320 -> 1280 is dense (a K = [1, 320] 1x1-only stage: +320 channel scales, as MobileNetV2's); FC 1280 -> 1000.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(32, Stride = 2)]
[Igcv3Stage(16, Expansion = 1)]
[Igcv3Stage(24, Stride = 2)]
[Igcv3Stage(24, Blocks = 3)]
[Igcv3Stage(32, Stride = 2)]
[Igcv3Stage(32, Blocks = 5)]
[Igcv3Stage(64, Stride = 2)]
[Igcv3Stage(64, Blocks = 7)]
[Igcv3Stage(96)]
[Igcv3Stage(96, Blocks = 5)]
[Igcv3Stage(160, Stride = 2)]
[Igcv3Stage(160, Blocks = 5)]
[Igcv3Stage(320)]
[Stage(1280, K = [1, 320], Spatial = false, SkipEvery = 0)]
public partial class Igcv3W100;

/// <summary>MobileNetV2-1.0 (Table 10): bottlenecks as IGCV3 blocks with G1 = G2 = 1 and ReLU6 after the expansion.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(32, Stride = 2)]
[Igcv3Stage(16, Expansion = 1, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(24, Stride = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(24, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(32, Stride = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(32, Blocks = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(64, Stride = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(64, Blocks = 3, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(96, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(96, Blocks = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(160, Stride = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(160, Blocks = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(320, G1 = 1, G2 = 1, Nonlinear = true)]
[Stage(1280, K = [1, 320], Spatial = false, SkipEvery = 0)]
public partial class MobileNetV2W100;

/// <summary>
/// IGCV2-0.5 (Table 9): the IGCV2-1.0 pattern at half width, g1 = g2 = 8 (K = c_i/8), the IGCV2* head 1024 -> 1000. Eight branches are
/// too many for the first, 32 -> 64 block: it reaches half the inputs (IGCV001, accepted as the paper's loose
/// complementary condition).
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(32, Stride = 2)]
[Stage(64, K = [1, 4, 4], Nonlinear = true, SkipEvery = 0, Loose = true)]
[Stage(128, K = [1, 8, 8], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(128, K = [1, 16, 16], Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 16, 16], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 32, 32], Nonlinear = true, SkipEvery = 0)]
[Stage(512, K = [1, 32, 32], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(512, Blocks = 5, K = [1, 64, 64], Nonlinear = true, SkipEvery = 0)]
[Stage(1024, K = [1, 64, 64], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(1024, K = [1, 128, 128], Nonlinear = true, SkipEvery = 0)]
[Classifier(K = [128, 128])]
public partial class Igcv2W050;

/// <summary>
/// IGCV2-0.25 (Table 9): the IGCV2-1.0 pattern at quarter width, g1 = g2 = 8, the IGCV2* head 512 -> 1000; its first two widening blocks
/// reach a quarter and a half of their inputs (IGCV001 under Loose).
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(16, Stride = 2)]
[Stage(32, K = [1, 2, 2], Nonlinear = true, SkipEvery = 0, Loose = true)]
[Stage(64, K = [1, 4, 4], Stride = 2, Nonlinear = true, SkipEvery = 0, Loose = true)]
[Stage(64, K = [1, 8, 8], Nonlinear = true, SkipEvery = 0)]
[Stage(128, K = [1, 8, 8], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(128, K = [1, 16, 16], Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 16, 16], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(256, Blocks = 5, K = [1, 32, 32], Nonlinear = true, SkipEvery = 0)]
[Stage(512, K = [1, 32, 32], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(512, K = [1, 64, 64], Nonlinear = true, SkipEvery = 0)]
[Classifier(K = [64, 64])]
public partial class Igcv2W025;

/// <summary>MobileNetV1-0.5 (Table 9).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(16, Stride = 2)]
[Stage(32, K = [1, 32], Nonlinear = true, SkipEvery = 0)]
[Stage(64, K = [1, 64], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(64, K = [1, 64], Nonlinear = true, SkipEvery = 0)]
[Stage(128, K = [1, 128], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(128, K = [1, 128], Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 256], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(256, Blocks = 5, K = [1, 256], Nonlinear = true, SkipEvery = 0)]
[Stage(512, K = [1, 512], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(512, K = [1, 512], Nonlinear = true, SkipEvery = 0)]
public partial class MobileNetV1W050;

/// <summary>MobileNetV1-0.25 (Table 9).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(8, Stride = 2)]
[Stage(16, K = [1, 16], Nonlinear = true, SkipEvery = 0)]
[Stage(32, K = [1, 32], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(32, K = [1, 32], Nonlinear = true, SkipEvery = 0)]
[Stage(64, K = [1, 64], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(64, K = [1, 64], Nonlinear = true, SkipEvery = 0)]
[Stage(128, K = [1, 128], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(128, Blocks = 5, K = [1, 128], Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 256], Stride = 2, Nonlinear = true, SkipEvery = 0)]
[Stage(256, K = [1, 256], Nonlinear = true, SkipEvery = 0)]
public partial class MobileNetV1W025;

/// <summary>
/// IGCV3-0.7 (Table 11): the authors' widths, round(0.7 c) made even (32 -> 22, 16 -> 12, 24 -> 18, 32 -> 22,
/// 64 -> 46, 96 -> 68, 160 -> 112, 320 -> 224). The last 1x1 scales too, 1280 -> 896: the paper's 2.0M cannot be
/// reached with 1280 there (the authors' code and MobileNetV2 keep 1280 below 1.0; the paper's counts do not).
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(22, Stride = 2)]
[Igcv3Stage(12, Expansion = 1)]
[Igcv3Stage(18, Stride = 2)]
[Igcv3Stage(18, Blocks = 3)]
[Igcv3Stage(22, Stride = 2)]
[Igcv3Stage(22, Blocks = 5)]
[Igcv3Stage(46, Stride = 2)]
[Igcv3Stage(46, Blocks = 7)]
[Igcv3Stage(68)]
[Igcv3Stage(68, Blocks = 5)]
[Igcv3Stage(112, Stride = 2)]
[Igcv3Stage(112, Blocks = 5)]
[Igcv3Stage(224)]
[Stage(896, K = [1, 224], Spatial = false, SkipEvery = 0)]
public partial class Igcv3W070;

/// <summary>
/// MobileNetV2-0.7 (Table 11): the MXNet MobileNetV2 the IGCV3 authors compare with (round(0.7 c), no rounding
/// to 8), and the last 1x1 at 896, as for IGCV3-0.7.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 224, Classes = 1000)]
[Stem(22, Stride = 2)]
[Igcv3Stage(11, Expansion = 1, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(17, Stride = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(17, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(22, Stride = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(22, Blocks = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(45, Stride = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(45, Blocks = 3, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(67, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(67, Blocks = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(112, Stride = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(112, Blocks = 2, G1 = 1, G2 = 1, Nonlinear = true)]
[Igcv3Stage(224, G1 = 1, G2 = 1, Nonlinear = true)]
[Stage(896, K = [1, 224], Spatial = false, SkipEvery = 0)]
public partial class MobileNetV2W070;
