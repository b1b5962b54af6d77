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

// The paper's Table 1 IGCV2 (C64) at depth 20, for the datasets it was trained on.

/// <summary>IGCV2 (C64), D = 20, CIFAR-10.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 10)]
[Stem(64)]
[Stage(64, Blocks = 6, K = [1, 8, 8])]
[Stage(128, Blocks = 6, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 6, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64Cifar10;

/// <summary>IGCV2 (C64), D = 20, CIFAR-100.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(64, Blocks = 6, K = [1, 8, 8])]
[Stage(128, Blocks = 6, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 6, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64Cifar100;

/// <summary>IGCV2 (C64), D = 20, Tiny ImageNet: 64x64 input, first convolution with stride 2 (paper section 4.1).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 64, Classes = 200)]
[Stem(64, Stride = 2)]
[Stage(64, Blocks = 6, K = [1, 8, 8])]
[Stage(128, Blocks = 6, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 6, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64TinyImageNet;
