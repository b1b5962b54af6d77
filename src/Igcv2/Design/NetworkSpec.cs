namespace Igcv2.Design;

/// <summary>
/// A network exactly as its attributes declare it, before any check. The generator reads it from the
/// attributes; the runtime can build one in code. <see cref="NetworkPlan.Create"/> turns it into layers.
/// </summary>
public sealed record NetworkSpec(int InputChannels, int InputSize, int Classes, EquatableArray<LayerSpec> Layers);

/// <summary>One layer attribute, in declaration order.</summary>
public abstract record LayerSpec;

/// <summary><c>[Stem(channels)]</c>: a dense 3x3 convolution, BN, ReLU.</summary>
public sealed record StemSpec(int Channels, int Stride = 1) : LayerSpec;

/// <summary>
/// <c>[Stage(channels, ...)]</c>: <paramref name="Blocks"/> IGCV2 blocks of width <paramref name="Channels"/>.
/// <paramref name="K"/> holds K_1..K_L, the channels in each branch of the L group convolutions (paper eq. 5);
/// K_1 belongs to the 3x3 spatial convolution. <paramref name="L"/> is null when the attribute leaves it out.
/// </summary>
public sealed record StageSpec(
    int Channels,
    int Blocks,
    EquatableArray<int> K,
    int? L = null,
    int Stride = 1,
    int SkipEvery = 2,
    bool Loose = false,
    bool Nonlinear = false) : LayerSpec;
