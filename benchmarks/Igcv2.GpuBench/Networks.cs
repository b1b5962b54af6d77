using Igcv2;

namespace Igcv2.GpuBench;

// The networks the benchmark times, declared as their samples declare them (kept here so that the published
// benchmark is one self-contained program).

/// <summary>Table 1's IGCV2 (C64) at D = 20 for CIFAR-100 (samples/Igcv2.Table1).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(64, Blocks = 6, K = [1, 8, 8])]
[Stage(128, Blocks = 6, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 6, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64;

/// <summary>Table 1's IGCV2* (C416) at D = 20: K = 8 everywhere, L* = 4; stages 2-3 are not dense (Loose).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(416, Blocks = 6, K = [1, 8, 8, 8])]
[Stage(832, Blocks = 6, K = [1, 8, 8, 8], Stride = 2, Loose = true)]
[Stage(1664, Blocks = 6, K = [1, 8, 8, 8], Stride = 2, Loose = true)]
public partial class Igcv2StarC416;

/// <summary>The main job's MNIST-sized network (samples/Igcv2.Train).</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(32)]
[Stage(64, Blocks = 2, K = [1, 8, 8], Stride = 2)]
[Stage(128, Blocks = 2, K = [1, 16, 8], Stride = 2)]
public partial class DigitsNet;

/// <summary>
/// The correctness check's network: small enough for ILGPU's emulating CPU accelerator, yet it has every step
/// the big ones have (a widening stride-2 block, non-identity shuffles, skips, a Figure 5 ReLU after BN_1).
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 5)]
[Stem(16)]
[Stage(16, Blocks = 2, K = [1, 4, 4])]
[Stage(32, Blocks = 2, K = [1, 8, 4], Stride = 2, Nonlinear = true)]
public partial class CheckNet;
