namespace Igcv2.Design;

/// <summary>Attribute defaults, one source for the attributes and for the generator that reads them.</summary>
public static class NetworkDefaults
{
    public const int InputChannels = 3;
    public const int InputSize = 32;
    public const int Classes = 10;
    public const int Blocks = 1;
    public const int Stride = 1;

    /// <summary>The paper adds an identity skip every two blocks (Table 1).</summary>
    public const int SkipEvery = 2;
}
