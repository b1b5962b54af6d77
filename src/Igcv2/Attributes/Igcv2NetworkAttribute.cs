using Igcv2.Design;

namespace Igcv2;

/// <summary>
/// Declares a partial class as an IGCV2 network. The layer attributes that follow it ([Stem], [Stage]),
/// in order, are its layers; the generator checks them and writes the rest of the class.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Igcv2NetworkAttribute : Attribute
{
    /// <summary>Channels of the input image (3 for RGB).</summary>
    public int InputChannels { get; set; } = NetworkDefaults.InputChannels;

    /// <summary>Side of the square input image in pixels.</summary>
    public int InputSize { get; set; } = NetworkDefaults.InputSize;

    /// <summary>Classes of the classifier.</summary>
    public int Classes { get; set; } = NetworkDefaults.Classes;
}
