using Igcv2;
using Igcv2.Data;

/// <summary>
/// A small network with every kind of layer the trainer drives (stem, a widening IGCV2 stage with BN after each
/// group convolution and a skip, the classifier): 1x8x8 inputs, 4 classes.
/// </summary>
[Igcv2Network(InputChannels = 1, InputSize = 8, Classes = 4)]
[Stem(8)]
[Stage(16, Blocks = 3, K = [1, 4, 4], Stride = 2)]
public partial class MpiTestNet
{
    /// <summary>Images whose class sets the brightness of one quadrant, plus noise.</summary>
    public static Dataset SyntheticData(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 64];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 4;
            for (var p = 0; p < 64; p++)
            {
                var quadrant = (p / 8 / 4) * 2 + p % 8 / 4;
                pixels[i * 64 + p] = (byte)Math.Clamp((quadrant == labels[i] ? 160 : 60) + random.Next(-50, 50), 0, 255);
            }
        }
        return new Dataset("synthetic", pixels, labels, 1, 8, 8, 4);
    }
}
