using Igcv2.Design;

namespace Igcv2;

/// <summary>
/// A stage of <see cref="Blocks"/> IGCV3 blocks of width <paramref name="channels"/> (paper section 5.2,
/// Figure 6, Table 10): a 1x1 group convolution with <see cref="G1"/> branches expanding the input by
/// <see cref="Expansion"/>, BN, the interleaving permutation, a channel-wise 3x3 (with the stage's stride
/// in its first block), BN, ReLU6, a linear 1x1 group convolution with <see cref="G2"/> branches, BN, the
/// permutation; an identity skip over every block that keeps its shape.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Igcv3StageAttribute(int channels) : Attribute
{
    public int Channels { get; } = channels;

    /// <summary>Number of blocks.</summary>
    public int Blocks { get; set; } = NetworkDefaults.Blocks;

    /// <summary>t, the expansion factor of the bottleneck (paper: 6; with 1 the first 1x1 group convolution keeps the width).</summary>
    public int Expansion { get; set; } = 6;

    /// <summary>Branches of the expanding 1x1 group convolution (paper: 2).</summary>
    public int G1 { get; set; } = 2;

    /// <summary>Branches of the projecting 1x1 group convolution (paper: 2).</summary>
    public int G2 { get; set; } = 2;

    /// <summary>1, or 2 to halve the feature map in the first block.</summary>
    public int Stride { get; set; } = NetworkDefaults.Stride;

    /// <summary>Also ReLU6 after the expansion (MobileNetV2's bottleneck, with G1 = G2 = 1).</summary>
    public bool Nonlinear { get; set; }

    /// <summary>Accept a composed kernel that is not dense (IGCV001 becomes a warning).</summary>
    public bool Loose { get; set; }
}
