namespace Igcv2;

/// <summary>
/// One more network from the same declaration, for another data set: the generator writes a class named
/// <paramref name="name"/> with the declaration's layers and these sizes (0 keeps the declaration's). Each variant
/// is a network of its own, with its compile-time constants (<c>ParameterCount</c>, <c>Summary</c>) and its own
/// checks: a head that fits 10 classes need not fit 200, and a check that fails only for a variant is reported
/// on this attribute's line, named for the variant.
/// </summary>
/// <example>
/// <code>
/// [Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 10)]
/// [Variant("Igcv2C64Cifar100", Classes = 100)]
/// [Variant("Igcv2C64TinyImageNet", InputSize = 64, Classes = 200, StemStride = 2)]
/// [Stem(64)]
/// [Stage(64, Blocks = 6, K = [1, 8, 8])]
/// public partial class Igcv2C64Cifar10;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class VariantAttribute(string name) : Attribute
{
    /// <summary>The generated class's name, in the declaration's namespace and with its accessibility.</summary>
    public string Name { get; } = name;

    /// <summary>Channels of the input image; 0: the declaration's.</summary>
    public int InputChannels { get; set; }

    /// <summary>Side of the square input image; 0: the declaration's.</summary>
    public int InputSize { get; set; }

    /// <summary>Classes of the classifier; 0: the declaration's.</summary>
    public int Classes { get; set; }

    /// <summary>The stride of the [Stem] (2 halves the image, the paper's Tiny ImageNet setting); 0: the declaration's.</summary>
    public int StemStride { get; set; }
}
