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

// The paper's Table 1 networks (--network with cifar10, cifar100 or tinyimagenet) are declared once, in
// samples/Igcv2.Table1/Table1Networks.cs, which this project compiles with IGCV2_TRAIN: CIFAR-100 as declared, and
// [Variant] classes for CIFAR-10 and Tiny ImageNet; that file keeps their IGCV002/IGCV005 findings out of this build.
// DigitsNet above keeps every warning: an edit that breaks a condition here still warns.
