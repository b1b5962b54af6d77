namespace Igcv2.Tests.Paper;

/// <summary>The counts of a <see cref="PaperNetwork"/>, in closed form, written apart from NetworkPlan.</summary>
public sealed record ClosedFormCounts(long ConvWeights, long BatchNormParameters, long ClassifierWeights, long ClassifierBias,
    long ConvMultiplyAdds, long ClassifierMultiplyAdds)
{
    public long Weights => ConvWeights + ClassifierWeights;

    public long Parameters => Weights + BatchNormParameters + ClassifierBias;

    public long MultiplyAdds => ConvMultiplyAdds + ClassifierMultiplyAdds;
}

/// <summary>
/// Paper eq. 7 per block, C*S*K_1 + C*sum_{l>=2} K_l, and its multiply-adds (weights times output positions),
/// stage by stage. A widening stage's first block groups its C_in inputs in every convolution (a K_l of C_in or
/// more is one dense branch) and its last convolution writes C_out channels; every convolution has a BN, the
/// projection shortcuts too.
/// </summary>
public static class PaperArithmetic
{
    public static ClosedFormCounts Count(PaperNetwork n, int inputChannels = 3, int inputSize = 32, int classes = 100)
    {
        long conv = 0, bn = 0, madds = 0;
        var size = inputSize;
        long stem = (long)inputChannels * n.Stem * 9;
        conv += stem;
        bn += 2L * n.Stem;
        madds += stem * size * size;
        var channels = n.Stem;
        for (var s = 0; s < 3; s++)
        {
            var c = n.Widths[s];
            var k = n.K[s];
            var l = k.Length;
            var outSize = s == 0 ? size : (size + 1) / 2;
            long positions = (long)outSize * outSize;

            // Block 1: C_in -> C, widening in the last convolution, or in the first (C/K_1 branches, C_in/(C/K_1) -> K_1).
            long first;
            if (n.WidenFirst && channels != c)
            {
                first = (long)channels * 9 * k[0] + (long)c * k.Skip(1).Sum();
                bn += 2L * c * l;
            }
            else
            {
                first = (long)channels * 9 * Math.Min(k[0], channels);
                for (var i = 1; i < l - 1; i++) first += (long)channels * Math.Min(k[i], channels);
                first += (long)c * Math.Min(k[l - 1], channels);
                bn += 2L * channels * (l - 1) + 2L * c;
            }
            conv += first;
            madds += first * positions;

            // Blocks 2..B: C -> C, C*9*K_1 + C*sum K_l.
            long block = (long)c * 9 * k[0] + (long)c * k.Skip(1).Sum();
            conv += (n.Blocks - 1) * block;
            madds += (n.Blocks - 1) * block * positions;
            bn += (n.Blocks - 1) * 2L * c * l;

            // The skip over blocks 1-2 of a downsampling stage: a 1x1 stride-2 projection C_in -> C and its BN.
            if (n.Projection && s > 0 && n.Blocks >= 2)
            {
                long projection = (long)channels * c;
                conv += projection;
                madds += projection * positions;
                bn += 2L * c;
            }

            channels = c;
            size = outSize;
        }
        long fc = (long)channels * classes;
        return new ClosedFormCounts(conv, bn, fc, classes, madds, fc);
    }

    /// <summary>
    /// A 1x1 stride-2 projection on the skip of each downsampling block pair, C_in * C_out weights at the
    /// output resolution (16x16, 8x8): what Xception's counts in the paper include.
    /// </summary>
    public static (long Weights, long MultiplyAdds) Projections(PaperNetwork n)
    {
        long w2 = (long)n.Widths[0] * n.Widths[1], w3 = (long)n.Widths[1] * n.Widths[2];
        return (w2 + w3, w2 * 16 * 16 + w3 * 8 * 8);
    }
}
