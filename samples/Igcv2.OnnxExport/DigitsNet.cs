using Igcv2;

namespace Igcv2.Samples;

/// <summary>
/// A small IGCV2 network for 28x28 grey digits: a stride-2 stem, then two stages of two blocks each,
/// channel-wise 3x3 followed by two interleaved group 1x1 convs (prod(K) = C in both stages).
/// </summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(16, Stride = 2)]
[Stage(16, Blocks = 2, K = [1, 4, 4])]
[Stage(32, Blocks = 2, K = [1, 8, 4], Stride = 2)]
public partial class DigitsNet;
