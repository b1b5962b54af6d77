using Igcv2;

namespace Igcv2.Samples.PaperNetworks;

// The CIFAR-100 networks of the paper's Tables 3, 4 and 6 (32x32 RGB input, 100 classes), as Table 1 lays
// them out: a 3x3 stem, three stages of B blocks at widths x, 2x, 4x (the last two halve the map in their
// first block), an identity skip every two blocks, global average pooling and the classifier. D = 3B + 2,
// so D = 8, 20, 26 is B = 2, 6, 8.
//
// Where the paper is underspecified the choice is named on the class; Program.cs prints how far each lands.
//  - IGCV2 (Cx): Table 1 gives "[L - 1, x, (1x1, K_s)]", L - 1 = 2 group 1x1 convolutions each with K_s
//    channels per branch, and section 4.3 sets K_s = 8, 16, 32 "to satisfy the complementary condition".
//    Read literally that is K = [1, K_s, K_s] (prod K = 64, 256, 1024 for C = 64, 128, 256: complementary
//    in stage 1, dense but redundant after it, IGCV002). The complementary reading K = [1, K_s, C/K_s] is
//    declared beside it. The paper's counts match the literal reading (within 2%), not the complementary one.
//  - IGCV2* (Cx): L* = ceil(log_8 C) + 1 taken per stage width (dense everywhere) with a 64-channel stem,
//    as Table 1 prints "(3x3, 64)" for this column; the paper's counts match this within 1%. Read with x the
//    first-stage width in every stage, the wider stages are not dense (Loose) and the counts land 17% low:
//    Igcv2StarC416FirstStageL shows it.
//  - Xception in Table 3 has a 35-channel first convolution (section 4.3: "we fix the channel number at the
//    first convolutional layer in Xception as 35"). Every Xception has a 1x1 stride-2 projection with BN on
//    the skip over the first two blocks of stages 2 and 3 (Projection = true): its counts include them.
//  - IGC-V1 (Cx) with the convolutions of the IGC authors' code (hellozting/InterleavedGroupConvolutions,
//    network/plain_igc.py; BN and skips as Table 1), not as Table 1 draws them: L = x/2 primary 3x3 branches in every stage with
//    M = 2, 4, 8 channels each, a secondary 1x1 of M branches of L channels (K = [M, x/2]), and the primary
//    convolution doing the widening (WidenFirst = true). Table 1's drawing (M = 2, L doubling) lands 1.19-1.93x
//    above the paper's counts; this lands within 2%.

// ---- Table 4: Xception (C35) against IGCV2 (C64) at D = 8, 20, 26 ----

/// <summary>Xception (C35), D = 8: K = [1, C].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(35, Blocks = 2, K = [1, 35])]
[Stage(70, Blocks = 2, K = [1, 70], Stride = 2, Projection = true)]
[Stage(140, Blocks = 2, K = [1, 140], Stride = 2, Projection = true)]
public partial class XceptionC35D8;

// Xception (C35), D = 20: Table 1's XceptionC35 (samples/Igcv2.Table1/Table1Networks.cs, compiled in here).

/// <summary>Xception (C35), D = 26: K = [1, C].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(35, Blocks = 8, K = [1, 35])]
[Stage(70, Blocks = 8, K = [1, 70], Stride = 2, Projection = true)]
[Stage(140, Blocks = 8, K = [1, 140], Stride = 2, Projection = true)]
public partial class XceptionC35D26;

/// <summary>IGCV2 (C64), D = 8, Table 1 read literally: both 1x1 convs have K_s = 8, 16, 32 channels per branch.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(64, Blocks = 2, K = [1, 8, 8])]
[Stage(128, Blocks = 2, K = [1, 16, 16], Stride = 2)]
[Stage(256, Blocks = 2, K = [1, 32, 32], Stride = 2)]
public partial class Igcv2C64D8;

/// <summary>IGCV2 (C64), D = 20, Table 1 read literally: both 1x1 convs have K_s = 8, 16, 32 channels per branch.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(64, Blocks = 6, K = [1, 8, 8])]
[Stage(128, Blocks = 6, K = [1, 16, 16], Stride = 2)]
[Stage(256, Blocks = 6, K = [1, 32, 32], Stride = 2)]
public partial class Igcv2C64D20;

/// <summary>IGCV2 (C64), D = 26, Table 1 read literally: both 1x1 convs have K_s = 8, 16, 32 channels per branch.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(64, Blocks = 8, K = [1, 8, 8])]
[Stage(128, Blocks = 8, K = [1, 16, 16], Stride = 2)]
[Stage(256, Blocks = 8, K = [1, 32, 32], Stride = 2)]
public partial class Igcv2C64D26;

/// <summary>IGCV2 (C64), D = 8, complementary reading: K_2 = K_s, K_3 = C/K_s (prod K = C).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(64, Blocks = 2, K = [1, 8, 8])]
[Stage(128, Blocks = 2, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 2, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64ComplementaryD8;

// IGCV2 (C64), D = 20, complementary reading: Table 1's Igcv2C64 (samples/Igcv2.Table1/Table1Networks.cs).

/// <summary>IGCV2 (C64), D = 26, complementary reading: K_2 = K_s, K_3 = C/K_s (prod K = C).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(64, Blocks = 8, K = [1, 8, 8])]
[Stage(128, Blocks = 8, K = [1, 16, 8], Stride = 2)]
[Stage(256, Blocks = 8, K = [1, 32, 8], Stride = 2)]
public partial class Igcv2C64ComplementaryD26;

// ---- Table 6: IGC-V1 (C48) against IGCV2 (C80) at D = 8, 20, 26 ----

/// <summary>IGC-V1 (C48) = IGC-L24M2, D = 8: L = x/2 primary branches in every stage, M = 2, 4, 8 channels each, K = [M, x/2].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(48)]
[Stage(48, Blocks = 2, K = [2, 24])]
[Stage(96, Blocks = 2, K = [4, 24], Stride = 2, WidenFirst = true)]
[Stage(192, Blocks = 2, K = [8, 24], Stride = 2, WidenFirst = true)]
public partial class IgcV1C48D8;

// IGC-V1 (C48), D = 20: Table 1's IgcV1C48 (samples/Igcv2.Table1/Table1Networks.cs).

/// <summary>IGC-V1 (C48) = IGC-L24M2, D = 26: L = x/2 primary branches in every stage, M = 2, 4, 8 channels each, K = [M, x/2].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(48)]
[Stage(48, Blocks = 8, K = [2, 24])]
[Stage(96, Blocks = 8, K = [4, 24], Stride = 2, WidenFirst = true)]
[Stage(192, Blocks = 8, K = [8, 24], Stride = 2, WidenFirst = true)]
public partial class IgcV1C48D26;

/// <summary>IGCV2 (C80), D = 8, Table 1 read literally: both 1x1 convs have K_s = 10, 16, 20 channels per branch.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(80)]
[Stage(80, Blocks = 2, K = [1, 10, 10])]
[Stage(160, Blocks = 2, K = [1, 16, 16], Stride = 2)]
[Stage(320, Blocks = 2, K = [1, 20, 20], Stride = 2)]
public partial class Igcv2C80D8;

/// <summary>IGCV2 (C80), D = 20, Table 1 read literally: both 1x1 convs have K_s = 10, 16, 20 channels per branch.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(80)]
[Stage(80, Blocks = 6, K = [1, 10, 10])]
[Stage(160, Blocks = 6, K = [1, 16, 16], Stride = 2)]
[Stage(320, Blocks = 6, K = [1, 20, 20], Stride = 2)]
public partial class Igcv2C80D20;

/// <summary>IGCV2 (C80), D = 26, Table 1 read literally: both 1x1 convs have K_s = 10, 16, 20 channels per branch.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(80)]
[Stage(80, Blocks = 8, K = [1, 10, 10])]
[Stage(160, Blocks = 8, K = [1, 16, 16], Stride = 2)]
[Stage(320, Blocks = 8, K = [1, 20, 20], Stride = 2)]
public partial class Igcv2C80D26;

/// <summary>IGCV2 (C80), D = 8, complementary reading: K_2 = K_s, K_3 = C/K_s (10*8 = 80, 16*10 = 160, 20*16 = 320).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(80)]
[Stage(80, Blocks = 2, K = [1, 10, 8])]
[Stage(160, Blocks = 2, K = [1, 16, 10], Stride = 2)]
[Stage(320, Blocks = 2, K = [1, 20, 16], Stride = 2)]
public partial class Igcv2C80ComplementaryD8;

/// <summary>IGCV2 (C80), D = 20, complementary reading: K_2 = K_s, K_3 = C/K_s (10*8 = 80, 16*10 = 160, 20*16 = 320).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(80)]
[Stage(80, Blocks = 6, K = [1, 10, 8])]
[Stage(160, Blocks = 6, K = [1, 16, 10], Stride = 2)]
[Stage(320, Blocks = 6, K = [1, 20, 16], Stride = 2)]
public partial class Igcv2C80ComplementaryD20;

/// <summary>IGCV2 (C80), D = 26, complementary reading: K_2 = K_s, K_3 = C/K_s (10*8 = 80, 16*10 = 160, 20*16 = 320).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(80)]
[Stage(80, Blocks = 8, K = [1, 10, 8])]
[Stage(160, Blocks = 8, K = [1, 16, 10], Stride = 2)]
[Stage(320, Blocks = 8, K = [1, 20, 16], Stride = 2)]
public partial class Igcv2C80ComplementaryD26;

// ---- Table 3: widths at D = 20 ----

/// <summary>Xception (C58), D = 20: K = [1, C]; the first convolution has 35 channels (section 4.3).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(58, Blocks = 6, K = [1, 58])]
[Stage(116, Blocks = 6, K = [1, 116], Stride = 2, Projection = true)]
[Stage(232, Blocks = 6, K = [1, 232], Stride = 2, Projection = true)]
public partial class XceptionC58;

/// <summary>Xception (C71), D = 20: K = [1, C]; the first convolution has 35 channels (section 4.3).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(71, Blocks = 6, K = [1, 71])]
[Stage(142, Blocks = 6, K = [1, 142], Stride = 2, Projection = true)]
[Stage(284, Blocks = 6, K = [1, 284], Stride = 2, Projection = true)]
public partial class XceptionC71;

/// <summary>Xception (C83), D = 20: K = [1, C]; the first convolution has 35 channels (section 4.3).</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(35)]
[Stage(83, Blocks = 6, K = [1, 83])]
[Stage(166, Blocks = 6, K = [1, 166], Stride = 2, Projection = true)]
[Stage(332, Blocks = 6, K = [1, 332], Stride = 2, Projection = true)]
public partial class XceptionC83;

/// <summary>IGC-V1 (C96), D = 20: L = x/2 primary branches in every stage, M = 2, 4, 8 channels each, K = [M, x/2].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(96)]
[Stage(96, Blocks = 6, K = [2, 48])]
[Stage(192, Blocks = 6, K = [4, 48], Stride = 2, WidenFirst = true)]
[Stage(384, Blocks = 6, K = [8, 48], Stride = 2, WidenFirst = true)]
public partial class IgcV1C96;

/// <summary>IGC-V1 (C126), D = 20: L = x/2 primary branches in every stage, M = 2, 4, 8 channels each, K = [M, x/2].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(126)]
[Stage(126, Blocks = 6, K = [2, 63])]
[Stage(252, Blocks = 6, K = [4, 63], Stride = 2, WidenFirst = true)]
[Stage(504, Blocks = 6, K = [8, 63], Stride = 2, WidenFirst = true)]
public partial class IgcV1C126;

/// <summary>IGC-V1 (C150), D = 20: L = x/2 primary branches in every stage, M = 2, 4, 8 channels each, K = [M, x/2].</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(150)]
[Stage(150, Blocks = 6, K = [2, 75])]
[Stage(300, Blocks = 6, K = [4, 75], Stride = 2, WidenFirst = true)]
[Stage(600, Blocks = 6, K = [8, 75], Stride = 2, WidenFirst = true)]
public partial class IgcV1C150;

/// <summary>IGCV2* (C216), D = 20: K = 8, L* = ceil(log_8 C) + 1 per stage width (4, 4, 5); a 64-channel first convolution.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(216, Blocks = 6, K = [1, 8, 8, 8])]
[Stage(432, Blocks = 6, K = [1, 8, 8, 8], Stride = 2)]
[Stage(864, Blocks = 6, K = [1, 8, 8, 8, 8], Stride = 2)]
public partial class Igcv2StarC216;

/// <summary>IGCV2* (C304), D = 20: K = 8, L* = ceil(log_8 C) + 1 per stage width (4, 5, 5); a 64-channel first convolution.</summary>
[Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
[Stem(64)]
[Stage(304, Blocks = 6, K = [1, 8, 8, 8])]
[Stage(608, Blocks = 6, K = [1, 8, 8, 8, 8], Stride = 2)]
[Stage(1216, Blocks = 6, K = [1, 8, 8, 8, 8], Stride = 2)]
public partial class Igcv2StarC304;

// IGCV2* (C416), D = 20, L* per stage width: Table 1's Igcv2StarC416 (samples/Igcv2.Table1/Table1Networks.cs).

// IGCV2* (C416), D = 20, L* of the first stage in every stage (not dense in stages 2 and 3):
// Table 1's Igcv2StarC416FirstStageL (samples/Igcv2.Table1/Table1Networks.cs).
