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

    /// <summary>
    /// Whether backward recomputes the outputs of cheap convolutions (at most 9 multiply-adds an element: IGCV2's
    /// channel-wise 3x3 W_1, a 1x1 W_2 of K_2 &lt;= 9) instead of keeping them, where blocks of one shape then share a
    /// buffer (the default): Table 1's C64 at batch 64 trains in about a quarter less memory, for about a tenth more
    /// time a step (measured 1.02-1.15x on the CPU). False keeps every convolution's output, for speed over memory.
    /// </summary>
    public bool Recompute { get; set; } = true;
}
