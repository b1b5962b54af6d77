using System;

namespace Igcv2.Design;

/// <summary>
/// The interleaving permutations P_l of paper eq. (5). After a group convolution with G branches over C
/// channels, P_l is the channel shuffle every public IGC/ShuffleNet implementation uses:
/// <c>out[j*G + g] = in[g*(C/G) + j]</c> (g: branch, j: channel within the branch). It sends the j-th
/// channel of every branch next to each other, so the next convolution's contiguous branches each draw
/// one channel from every branch of this one: channel indices read as mixed-radix numbers, the l-th
/// convolution mixes only the l-th digit.
/// </summary>
public static class Interleaving
{
    /// <summary>The shuffle as a gather: <c>out[o] = in[source[o]]</c>.</summary>
    public static int[] ChannelShuffle(int channels, int branches)
    {
        if (channels <= 0 || branches <= 0 || channels % branches != 0)
        {
            throw new ArgumentException($"A channel shuffle needs branches ({branches}) dividing channels ({channels}).");
        }

        var perBranch = channels / branches;
        var source = new int[channels];
        for (var g = 0; g < branches; g++)
        {
            for (var j = 0; j < perBranch; j++)
            {
                source[j * branches + g] = g * perBranch + j;
            }
        }
        return source;
    }

    /// <summary>The shuffle is the identity when there is one branch or one channel per branch.</summary>
    public static bool IsIdentity(int channels, int branches) => branches == 1 || branches == channels;

    /// <summary>The inverse of a shuffle over G branches is the shuffle over C/G branches.</summary>
    public static int InverseBranches(int channels, int branches) => channels / branches;
}
