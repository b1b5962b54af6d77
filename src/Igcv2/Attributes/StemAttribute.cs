using Igcv2.Design;

namespace Igcv2;

/// <summary>The first layer: a dense 3x3 convolution to <paramref name="channels"/> channels, BN, ReLU.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class StemAttribute(int channels) : Attribute
{
    public int Channels { get; } = channels;

    /// <summary>1, or 2 to halve the image (the paper's Tiny ImageNet setting).</summary>
    public int Stride { get; set; } = NetworkDefaults.Stride;
}
