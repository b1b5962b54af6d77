namespace Igcv2.Design;

/// <summary>
/// A network exactly as its attributes declare it, before any check. The generator reads it from the
/// attributes; the runtime can build one in code. <see cref="NetworkPlan.Create"/> turns it into layers.
/// <paramref name="Recompute"/>: <c>[Igcv2Network(Recompute = ...)]</c>, whether backward recomputes cheap
/// convolutions' outputs rather than keeping them (<see cref="BufferPlan.For(NetworkSteps, bool)"/>).
/// </summary>
public sealed record NetworkSpec(int InputChannels, int InputSize, int Classes, EquatableArray<LayerSpec> Layers, bool Recompute = true);

/// <summary>One layer attribute, in declaration order.</summary>
public abstract record LayerSpec;

/// <summary><c>[Stem(channels)]</c>: a dense 3x3 convolution, BN, ReLU.</summary>
public sealed record StemSpec(int Channels, int Stride = 1) : LayerSpec;

/// <summary>
/// <c>[Stage(channels, ...)]</c>: <paramref name="Blocks"/> IGCV2 blocks of width <paramref name="Channels"/>.
/// <paramref name="K"/> holds K_1..K_L, the channels in each branch of the L group convolutions (paper eq. 5);
/// K_1 belongs to the 3x3 spatial convolution, unless <paramref name="Spatial"/> is false: then every W_l is a
/// 1x1 group convolution (the paper's starred blocks "without the 3x3 channel-wise convolution", Tables 8 and
/// 10). <paramref name="L"/> is null when the attribute leaves it out. With <paramref name="Projection"/>, a skip
/// whose ends differ in shape (the group that starts with the stage's widening, downsampling block) goes through a
/// 1x1 convolution with the stride and BN instead of being dropped. With <paramref name="WidenFirst"/>, a stage that
/// changes width does so in the first convolution of its first block (IGC-V1's primary group convolution) instead
/// of the last (IGCV2, paper section 5.1).
/// </summary>
public sealed record StageSpec(
    int Channels,
    int Blocks,
    EquatableArray<int> K,
    int? L = null,
    int Stride = 1,
    int SkipEvery = 2,
    bool Loose = false,
    bool Nonlinear = false,
    bool Spatial = true,
    bool Projection = false,
    bool WidenFirst = false) : LayerSpec
{
    /// <summary>S of the balance condition: 9 for the 3x3 first convolution, 1 when every convolution is 1x1.</summary>
    public int S => Spatial ? Balance.SpatialSize : 1;
}

/// <summary>
/// <c>[Igcv3Stage(channels, ...)]</c>: <paramref name="Blocks"/> IGCV3 blocks (paper section 5.2, Figure 6,
/// Table 10): a 1x1 group convolution with <paramref name="G1"/> branches expanding the C_in channels by
/// <paramref name="Expansion"/> (t), BN, the interleaving permutation, a channel-wise 3x3 (the stride),
/// BN, ReLU6, a linear 1x1 group convolution with <paramref name="G2"/> branches to C_out, BN, the
/// permutation; an identity skip when the block keeps its shape. The first 1x1 group convolution is there
/// for t = 1 too (Table 10 lists g1 for its t = 1 row; MobileNetV2's t = 1 bottleneck has none).
/// <paramref name="Nonlinear"/> adds ReLU6 after the expansion too (MobileNetV2's bottleneck when G1 = G2 = 1).
/// </summary>
public sealed record Igcv3StageSpec(
    int Channels,
    int Blocks,
    int Expansion = 6,
    int G1 = 2,
    int G2 = 2,
    int Stride = 1,
    bool Nonlinear = false,
    bool Loose = false) : LayerSpec;

/// <summary>
/// <c>[Classifier(...)]</c>, after the last stage: what follows global average pooling. With an empty
/// <paramref name="K"/>, one fully connected layer C -> classes (the default when the attribute is left out).
/// With K = [K_1, ..., K_L], the paper's IGCV2* head (Table 8, last row: "IGCV2* x1, 2048 -> 1000, g1 = g2 = 8",
/// a block without the 3x3 convolution on the pooled 1x1 map): L 1x1 group convolutions, the l-th with K_l
/// channels per branch; BN and the interleaving permutation P_l between them; the last maps C to the classes
/// and adds a bias. <paramref name="Loose"/> accepts a head whose composed map is not dense.
/// </summary>
public sealed record ClassifierSpec(EquatableArray<int> K, bool Loose = false) : LayerSpec
{
    public bool IsGrouped => K.Count > 0;
}
