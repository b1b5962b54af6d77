namespace Igcv2;

/// <summary>
/// What follows the global average pooling at the end of the network; goes after the last stage. Left out,
/// or without <see cref="K"/>: one fully connected layer C -> classes, with a bias. With K = [K_1, ..., K_L]:
/// the paper's IGCV2* head (Table 8, last row: 2048 -> 1000 with g1 = g2 = 8 branches, "no 3x3 channel-wise
/// convolution"): L 1x1 group convolutions on the pooled 1x1 map, the l-th with K_l channels per branch,
/// each but the last followed by BN and the interleaving permutation P_l; the last maps C to the classes
/// and adds a bias. Table 8's head on 2048 channels is <c>[Classifier(K = [256, 256])]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ClassifierAttribute : Attribute
{
    /// <summary>K_1..K_L: input channels per branch of each 1x1 group convolution; empty for a fully connected layer.</summary>
    public int[] K { get; set; } = [];

    /// <summary>Accept a head whose composed map is not dense (IGCV001 becomes a warning).</summary>
    public bool Loose { get; set; }
}
