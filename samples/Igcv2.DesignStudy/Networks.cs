using Igcv2;

namespace Igcv2.Samples.DesignStudy;

// The paper's section 4.2 study, digits-sized: an "8-layer network without down-sampling" (a 3x3 stem, six
// IGCV2 blocks, the classifier), each block a channel-wise 3x3 and L - 1 group 1x1 convolutions. The stem has
// stride 2 (28x28 digits -> 14x14 maps) to keep the study inside ten minutes on two cores; the blocks keep
// that size. No skips (SkipEvery = 0), as the plain 8-layer net. Every variant spends about 1,600 weights
// per block (C * 9 + C * sum K_l, within 6%, K = 16 within 18%), so the width C is what the design buys.
//
// Figure 3 (vary L): K chosen to satisfy the complementary condition (prod K = C) and, as near as integer
// divisors allow, the balance condition (the 1x1 K_l within a factor of 2 of each other).
// Figure 2 (L = 3 fixed, vary K = K_2 = K_3): K = 8 at C = 64 is the complementary one (8 * 8 = 64); smaller
// K is wider but sparse (not dense, Loose), larger K dense but redundant.

/// <summary>L = 2, Xception-like: K = [1, 35], C = 35 (1,540 weights per block).</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(35, Stride = 2)]
[Stage(35, Blocks = 6, K = [1, 35], SkipEvery = 0)]
public partial class StudyL2C35;

/// <summary>L = 3: K = [1, 8, 8], C = 64 (1,600 weights per block); also Figure 2's complementary K = 8.</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(64, Stride = 2)]
[Stage(64, Blocks = 6, K = [1, 8, 8], SkipEvery = 0)]
public partial class StudyL3C64;

/// <summary>L = 4: K = [1, 5, 5, 3], C = 75 (1,650 weights per block).</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(75, Stride = 2)]
[Stage(75, Blocks = 6, K = [1, 5, 5, 3], SkipEvery = 0)]
public partial class StudyL4C75;

/// <summary>L = 5: K = [1, 3, 3, 3, 3], C = 81 (1,701 weights per block).</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(81, Stride = 2)]
[Stage(81, Blocks = 6, K = [1, 3, 3, 3, 3], SkipEvery = 0)]
public partial class StudyL5C81;

/// <summary>L = 6: K = [1, 2, 2, 2, 3, 3], C = 72 (1,512 weights per block).</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(72, Stride = 2)]
[Stage(72, Blocks = 6, K = [1, 2, 2, 2, 3, 3], SkipEvery = 0)]
public partial class StudyL6C72;

/// <summary>L = 3, K = 4: C = 96 (1,632 weights per block); prod K = 16 &lt; 96, not dense.</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(96, Stride = 2)]
[Stage(96, Blocks = 6, K = [1, 4, 4], SkipEvery = 0, Loose = true)]
public partial class StudyK4C96;

/// <summary>L = 3, K = 6: C = 72 (1,512 weights per block); prod K = 36 &lt; 72, not dense.</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(72, Stride = 2)]
[Stage(72, Blocks = 6, K = [1, 6, 6], SkipEvery = 0, Loose = true)]
public partial class StudyK6C72;

/// <summary>L = 3, K = 12: C = 48 (1,584 weights per block); prod K = 144 &gt; 48, dense and redundant.</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(48, Stride = 2)]
[Stage(48, Blocks = 6, K = [1, 12, 12], SkipEvery = 0)]
public partial class StudyK12C48;

/// <summary>L = 3, K = 16: C = 32 (1,312 weights per block); prod K = 256 &gt; 32, dense and redundant.</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(32, Stride = 2)]
[Stage(32, Blocks = 6, K = [1, 16, 16], SkipEvery = 0)]
public partial class StudyK16C32;
