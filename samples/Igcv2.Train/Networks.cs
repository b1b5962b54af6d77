using Igcv2;

namespace Igcv2.Samples.Train;

/// <summary>
/// The main job's network: an IGCV2 net for 28x28 digits. Both stages widen in their first block (the
/// last 1x1 group convolution does the increase) and halve the map; every block is complementary
/// (prod K = C) and balanced (K_2 and K_3 within a factor of 2).
/// </summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(32)]
[Stage(64, Blocks = 2, K = [1, 8, 8], Stride = 2)]
[Stage(128, Blocks = 2, K = [1, 16, 8], Stride = 2)]
public partial class DigitsNet;

// The paper's Table 1 networks at depth D = 20 (B = 6 blocks per stage, a skip every two blocks), for the
// datasets it trained them on (--network picks one). Each is declared once, for CIFAR-10; [Variant] makes the
// CIFAR-100 and Tiny ImageNet classes from the same layers (Tiny ImageNet: 64x64 input and a stride-2 first
// convolution, paper section 4.1), each checked and counted at compile time on its own.
//
// Their balance (IGCV005) and redundancy (IGCV002) findings are the point of samples/Igcv2.Table1 and
// samples/Igcv2.PaperNetworks, which show them; here they are the paper's networks as the paper trained them,
// so the main job builds quietly. DigitsNet above is outside the pragma: an edit that breaks a condition there
// still warns.
#pragma warning disable IGCV002, IGCV005

/// <summary>IGCV2 (C64): channel-wise 3x3, two group 1x1s, K_s = 8, 16, 32 (section 4.3), D = 20.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 10)]
[Variant("Igcv2C64Cifar100", Classes = 100)]
[Variant("Igcv2C64TinyImageNet", InputSize = 64, Classes = 200, StemStride = 2)]
[Stem(64)]
[Stage(64, Blocks = 6, K = [1, 8, 8])]
[Stage(128, Blocks = 6, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 6, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64Cifar10;

/// <summary>Xception (C35): channel-wise 3x3 and a dense 1x1 (K = [1, C]), projection shortcuts, D = 20.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 10)]
[Variant("XceptionC35Cifar100", Classes = 100)]
[Variant("XceptionC35TinyImageNet", InputSize = 64, Classes = 200, StemStride = 2)]
[Stem(35)]
[Stage(35, Blocks = 6, K = [1, 35])]
[Stage(70, Blocks = 6, K = [1, 70], Stride = 2, Projection = true)]
[Stage(140, Blocks = 6, K = [1, 140], Stride = 2, Projection = true)]
public partial class XceptionC35Cifar10;

// IGCV005 here: IGC-V1 is unbalanced in its last stage (S*K_1 = 72 against K_2 = 24), as the paper says
/// <summary>IGC-V1 (C48) = IGC-L24M2 with its authors' convolutions: 24 primary branches of 2, 4, 8 channels, D = 20.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 10)]
[Variant("IgcV1C48Cifar100", Classes = 100)]
[Variant("IgcV1C48TinyImageNet", InputSize = 64, Classes = 200, StemStride = 2)]
[Stem(48)]
[Stage(48, Blocks = 6, K = [2, 24])]
[Stage(96, Blocks = 6, K = [4, 24], Stride = 2, WidenFirst = true)]
[Stage(192, Blocks = 6, K = [8, 24], Stride = 2, WidenFirst = true)]
public partial class IgcV1C48Cifar10;

/// <summary>IGCV2* (C416): K = 8, L* = ceil(log_8 C) + 1 per stage width, a 64-channel stem, D = 20.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 10)]
[Variant("Igcv2StarC416Cifar100", Classes = 100)]
[Variant("Igcv2StarC416TinyImageNet", InputSize = 64, Classes = 200, StemStride = 2)]
[Stem(64)]
[Stage(416, Blocks = 6, K = [1, 8, 8, 8])]
[Stage(832, Blocks = 6, K = [1, 8, 8, 8, 8], Stride = 2)]
[Stage(1664, Blocks = 6, K = [1, 8, 8, 8, 8], Stride = 2)]
public partial class Igcv2StarC416Cifar10;
#pragma warning restore IGCV002, IGCV005
