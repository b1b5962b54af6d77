using System;
using System.Collections.Generic;
using System.Linq;

namespace Igcv2.Design;

/// <summary>
/// The balance condition, paper eqs. (7)-(14): with prod K_l = C, the weights of a block,
/// Q = C * sum_{l>=2} K_l + C * S * K_1, are smallest when S*K_1 = K_2 = ... = K_L = (S*C)^(1/L),
/// and smallest over L near L = ln(S*C). With a channel-wise first convolution (K_1 = 1) the paper
/// balances the 1x1 convolutions only: K_2 = ... = K_L = C^(1/(L-1)), so L - 1 near ln(C).
/// </summary>
public static class Balance
{
    /// <summary>S, the size of the spatial kernel: 3x3.</summary>
    public const int SpatialSize = 9;

    /// <summary>The terms eq. (11) asks to be equal: S*K_1 (left out when K_1 = 1), K_2, ..., K_L.</summary>
    public static long[] Terms(IReadOnlyList<int> k, int s = SpatialSize)
    {
        var terms = new List<long>();
        if (k.Count > 0 && k[0] != 1) terms.Add((long)s * k[0]);
        for (var l = 1; l < k.Count; l++) terms.Add(k[l]);
        return terms.ToArray();
    }

    /// <summary>Far from balance: the largest term is more than twice the smallest.</summary>
    public static bool IsFarFromBalance(IReadOnlyList<int> k, int s = SpatialSize)
    {
        var terms = Terms(k, s);
        return terms.Length > 1 && terms.Max() > 2 * terms.Min();
    }

    /// <summary>Q of eq. (7) for a block of width C: C*S*K_1 + C*sum_{l>=2} K_l.</summary>
    public static long Weights(int channels, IReadOnlyList<int> k, int s = SpatialSize)
    {
        long q = (long)channels * s * k[0];
        for (var l = 1; l < k.Count; l++) q += (long)channels * k[l];
        return q;
    }

    /// <summary>The L that minimises Q (eq. 14): ln(S*C), or 1 + ln(C) when the first convolution is channel-wise.</summary>
    public static double OptimalL(int channels, bool channelWise, int s = SpatialSize) =>
        channelWise ? 1 + Math.Log(channels) : Math.Log((double)s * channels);

    /// <summary>
    /// The complementary K with <paramref name="l"/> group convolutions (prod K = C_out) that has the
    /// fewest weights, and that a stage widening from <paramref name="inChannels"/> to
    /// <paramref name="outChannels"/> (in its first convolution when <paramref name="widenFirst"/>) can use;
    /// K_1 = 1 when <paramref name="channelWise"/>. Null when none exists.
    /// </summary>
    public static int[]? SuggestComplementary(int inChannels, int outChannels, int l, bool channelWise, int s = SpatialSize, bool widenFirst = false)
    {
        if (l < 2 || inChannels <= 0 || outChannels <= 0) return null;
        // A 1x1 group convolution with one channel per branch is a per-channel scale: never suggested.
        return Fewest(outChannels, l, channelWise, firstMin: 1,
            k => (k[l - 1] >= 2 || outChannels <= 1) && Shapes.KFits(inChannels, outChannels, k, widenFirst),
            k => Weights(outChannels, k, s));
    }

    /// <summary>
    /// The complementary IGCV2* head (Table 8) of <paramref name="l"/> 1x1 group convolutions from the pooled
    /// <paramref name="channels"/> to <paramref name="classes"/> with the fewest weights,
    /// C * (K_1 + ... + K_{L-1}) + classes * K_L: prod K = C (one path per pair), every K_l at least 2 and
    /// dividing C, and the C/K_L branches of the last convolution dividing the classes. Null when none exists.
    /// </summary>
    public static int[]? SuggestComplementaryHead(int channels, int classes, int l)
    {
        if (l < 2 || channels <= 0 || classes <= 0) return null;
        return Fewest(channels, l, firstIsOne: false, firstMin: 2,
            k => k[l - 1] >= 2 && k[l - 1] <= channels && classes % (channels / k[l - 1]) == 0,
            k =>
            {
                var q = (long)classes * k[l - 1];
                for (var i = 0; i < l - 1; i++) q += (long)channels * k[i];
                return q;
            });
    }

    /// <summary>
    /// Of the ways to write <paramref name="product"/> as K_1 * ... * K_L (K_1 = 1 when
    /// <paramref name="firstIsOne"/>, else at least <paramref name="firstMin"/>; the middle factors at least 2;
    /// the last what remains), the one <paramref name="accept"/> admits with the fewest
    /// <paramref name="weights"/>. The search stops after 200,000 steps.
    /// </summary>
    private static int[]? Fewest(long product, int l, bool firstIsOne, int firstMin, Func<int[], bool> accept, Func<int[], long> weights)
    {
        int[]? best = null;
        var bestQ = long.MaxValue;
        var k = new int[l];
        var budget = 200_000;

        void Search(int position, long remaining)
        {
            if (--budget < 0) return;
            if (position == l - 1)
            {
                if (remaining > int.MaxValue) return;
                k[position] = (int)remaining;
                if (!accept(k)) return;
                var q = weights(k);
                if (q < bestQ)
                {
                    bestQ = q;
                    best = (int[])k.Clone();
                }
                return;
            }

            if (position == 0 && firstIsOne)
            {
                k[0] = 1;
                Search(1, remaining);
                return;
            }

            foreach (var d in Shapes.Divisors(remaining))
            {
                if (d < (position == 0 ? firstMin : 2)) continue;
                k[position] = (int)d;
                Search(position + 1, remaining / d);
            }
        }

        Search(0, product);
        return best;
    }
}
