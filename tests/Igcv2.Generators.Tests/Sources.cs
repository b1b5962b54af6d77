namespace Igcv2.Generators.Tests;

/// <summary>Network declarations the tests share.</summary>
internal static class Sources
{
    /// <summary>
    /// The paper's Table 1 IGCV2 (C64) at depth 20, as samples/Igcv2.Table1/Table1Networks.cs declares it, but public.
    /// A copy on purpose: the generator's input is this fixed text, so that its approved snapshot changes when the
    /// generator does, not when a sample's declaration or comments do.
    /// </summary>
    public const string Igcv2C64 = """
        using Igcv2;

        namespace Igcv2.Samples;

        [Igcv2Network(InputChannels = 3, InputSize = 32, Classes = 100)]
        [Stem(64)]
        [Stage(64, Blocks = 6, K = [1, 8, 8])]
        [Stage(128, Blocks = 6, K = [1, 16, 8], Stride = 2)]
        [Stage(256, Blocks = 6, K = [1, 32, 8], Stride = 2)]
        public partial class Igcv2C64;
        """;

    /// <summary>Two stages, the second halving the map and widening 16 -> 32 in its last 1x1 convolution.</summary>
    public const string SmallStrided = """
        using Igcv2;

        namespace Tests.Small;

        [Igcv2Network(InputChannels = 1, InputSize = 8, Classes = 4)]
        [Stem(16)]
        [Stage(16, Blocks = 2, K = [1, 4, 4])]
        [Stage(32, Blocks = 2, K = [1, 8, 4], Stride = 2)]
        public partial class SmallStrided { }
        """;

    /// <summary>
    /// IGC-V1 with the IGC authors' convolutions: L = 8 primary 3x3 branches in both stages with M = 2, then 4 channels
    /// each (K = [M, L]), a secondary 1x1 of M branches; the primary convolution widens 16 -> 32 (WidenFirst).
    /// </summary>
    public const string IgcV1 = """
        using Igcv2;

        namespace Tests.Small;

        [Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 10)]
        [Stem(16)]
        [Stage(16, Blocks = 2, K = [2, 8])]
        [Stage(32, Blocks = 2, K = [4, 8], Stride = 2, WidenFirst = true)]
        public partial class IgcV1Small { }
        """;

    /// <summary>Xception: K = [1, C], channel-wise 3x3 and a dense 1x1.</summary>
    public const string Xception = """
        using Igcv2;

        namespace Tests.Small;

        [Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 10)]
        [Stem(12)]
        [Stage(12, Blocks = 2, K = [1, 12])]
        [Stage(24, Blocks = 1, K = [1, 24], Stride = 2)]
        public partial class XceptionSmall { }
        """;

    /// <summary>A network with no namespace.</summary>
    public const string GlobalNamespace = """
        using Igcv2;

        [Igcv2Network(InputChannels = 3, InputSize = 4, Classes = 2)]
        [Stem(8)]
        [Stage(8, Blocks = 2, K = [1, 4, 2], SkipEvery = 0)]
        public partial class GlobalNet { }
        """;
}
