using Igcv2;

namespace Igcv2.Samples;

// The paper's Table 1 networks at depth D = 3B + 2 = 20 (B = 6 blocks per stage, a skip every two
// blocks), for CIFAR-100: 32x32 RGB input, three stages of width x, 2x, 4x, the last two halving the map.

/// <summary>Xception (C35): a channel-wise 3x3 and a dense 1x1 per block, K = [1, C].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(35, Blocks = 6, K = [1, 35])]
[Stage(70, Blocks = 6, K = [1, 70], Stride = 2, Projection = true)]
[Stage(140, Blocks = 6, K = [1, 140], Stride = 2, Projection = true)]
public partial class XceptionC35;

/// <summary>
/// IGC-V1 (C48) with the convolutions of its authors' code (BN and skips as Table 1): L = 24 primary 3x3 branches in every stage with M = 2, 4, 8
/// channels each, a secondary 1x1 of M branches of 24 (K = [M, 24]), the primary convolution widening.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(48)]
[Stage(48, Blocks = 6, K = [2, 24])]
[Stage(96, Blocks = 6, K = [4, 24], Stride = 2, WidenFirst = true)]
[Stage(192, Blocks = 6, K = [8, 24], Stride = 2, WidenFirst = true)]
public partial class IgcV1C48;

/// <summary>IGCV2 (C64): channel-wise 3x3 and L - 1 = 2 group 1x1 convs; K_s = 8, 16, 32 (section 4.3).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(64, Blocks = 6, K = [1, 8, 8])]
[Stage(128, Blocks = 6, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 6, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64;

/// <summary>
/// IGCV2* (C416): K = 8 everywhere, L* = ceil(log_8 416) + 1 = 4 (Table 1; the stem has 64 channels).
/// 8^3 = 512 paths per output cannot reach all 832 or 1664 channels of the wider stages: the generator
/// reports IGCV001 there, accepted with Loose = true, as the paper's design is.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(416, Blocks = 6, K = [1, 8, 8, 8])]
[Stage(832, Blocks = 6, K = [1, 8, 8, 8], Stride = 2, Loose = true)]
[Stage(1664, Blocks = 6, K = [1, 8, 8, 8], Stride = 2, Loose = true)]
public partial class Igcv2StarC416;
