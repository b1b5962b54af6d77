using Igcv2;

namespace Igcv2.GpuBench;

// The networks the benchmark times besides Table 1's IGCV2 (C64) and IGCV2* (C416) read literally, which come from
// samples/Igcv2.Table1/Table1Networks.cs (compiled into this program: see the .csproj).

/// <summary>The main job's MNIST-sized network (samples/Igcv2.Train).</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(32)]
[Stage(64, Blocks = 2, K = [1, 8, 8], Stride = 2)]
[Stage(128, Blocks = 2, K = [1, 16, 8], Stride = 2)]
public partial class DigitsNet;

/// <summary>
/// Table 1's C64 (samples/Igcv2.Table1) with every convolution's output kept for backward (Recompute = false): the
/// CPU side-by-side times and measures it beside the recomputing one, to show what recomputing costs and saves.
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100, Recompute = false)]
[Stem(64)]
[Stage(64, Blocks = 6, K = [1, 8, 8])]
[Stage(128, Blocks = 6, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 6, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64Kept;

/// <summary>
/// The correctness check's network: small enough for ILGPU's emulating CPU accelerator, yet it has every step
/// the big ones have (a widening stride-2 block, non-identity shuffles, skips, a Figure 5 ReLU after BN_1).
/// </summary>
[Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 5)]
[Stem(16)]
[Stage(16, Blocks = 2, K = [1, 4, 4])]
[Stage(32, Blocks = 2, K = [1, 8, 4], Stride = 2, Nonlinear = true)]
public partial class CheckNet;
