using Igcv2.Design;

namespace Igcv2;

/// <summary>
/// A stage of <see cref="Blocks"/> IGCV2 blocks of width <paramref name="channels"/>. Each block is
/// W = P_L W_L ... P_2 W_2 P_1 W_1 (paper eq. 5): L group convolutions, the l-th with K[l-1] channels in
/// each branch, the first a 3x3 (K_1 = 1: channel-wise), the rest 1x1, interleaved by channel shuffles.
/// BN follows every group convolution and ReLU ends the block. When the stage changes width, the last
/// 1x1 group convolution of its first block does the increase.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class StageAttribute(int channels) : Attribute
{
    public int Channels { get; } = channels;

    /// <summary>Number of blocks.</summary>
    public int Blocks { get; set; } = NetworkDefaults.Blocks;

    /// <summary>K_1..K_L: channels per branch of each group convolution. Complementary when prod(K) = C.</summary>
    public int[] K { get; set; } = [];

    /// <summary>Optional: the number of group convolutions; when given it must equal K.Length.</summary>
    public int L { get; set; }

    /// <summary>1, or 2 to halve the feature map in the first block.</summary>
    public int Stride { get; set; } = NetworkDefaults.Stride;

    /// <summary>An identity skip over every n blocks (the paper: 2); 0 for none.</summary>
    public int SkipEvery { get; set; } = NetworkDefaults.SkipEvery;

    /// <summary>Accept a composed kernel that is not dense (IGCV001 becomes a warning), as the paper's ImageNet nets do.</summary>
    public bool Loose { get; set; }

    /// <summary>Also BN + ReLU after the spatial convolution (the paper's Figure 5 block).</summary>
    public bool Nonlinear { get; set; }

    /// <summary>
    /// False: no 3x3 convolution, every W_l is a 1x1 group convolution (the paper's starred blocks, Tables 8
    /// and 10); the balance condition then has S = 1.
    /// </summary>
    public bool Spatial { get; set; } = true;

    /// <summary>
    /// A skip whose ends differ in shape (over the stage's first, widening or downsampling, blocks) goes
    /// through a 1x1 convolution with the stride, C_in -> C_out, and BN (ResNet's projection shortcut), instead
    /// of being left out. The paper's Xception counts include these. No effect where every skip joins equal shapes.
    /// </summary>
    public bool Projection { get; set; }

    /// <summary>
    /// When the stage changes width, the first convolution of its first block does it, with C_out/K_1 branches
    /// each writing K_1 channels (IGC-V1's primary group convolution, as the IGC authors' code builds it), instead
    /// of the last 1x1 (IGCV2, paper section 5.1). Every K_l then counts channels at the stage width. No effect on
    /// a stage that keeps the width of its input.
    /// </summary>
    public bool WidenFirst { get; set; }
}
