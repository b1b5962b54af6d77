using System;
using System.Collections.Generic;

namespace Igcv2.Design;

/// <summary>The shape rules every layer obeys: divisibility of K, output sizes, limits.</summary>
public static class Shapes
{
    /// <summary>Widest layer the generator accepts (the paper's widest is 2048).</summary>
    public const int MaxChannels = 65536;

    /// <summary>Largest input side the generator accepts.</summary>
    public const int MaxInputSize = 16384;

    /// <summary>Most blocks in one stage.</summary>
    public const int MaxBlocks = 4096;

    /// <summary>Output side of a 3x3 convolution with padding 1: floor((n - 1) / stride) + 1.</summary>
    public static int ConvolvedSize(int size, int stride) => (size - 1) / stride + 1;

    /// <summary>
    /// K_l as block 1 of a stage uses it. A stage that widens from C_in to C_out does the increase in the
    /// last group convolution of its first block, whose convolutions all group the C_in input channels;
    /// a K_l of C_in or more there means one branch, a dense convolution (Xception's K = [1, C]: its
    /// 1x1 is dense in every block, the widening one too).
    /// </summary>
    public static int FirstBlockK(int k, int inChannels) => Math.Min(k, inChannels);

    /// <summary>
    /// What keeps K from fitting a stage of <paramref name="blocks"/> blocks from C_in to C_out, in words;
    /// empty when it fits. Every K_l must be positive, at most C_out, and divide the channels it groups:
    /// C_in in block 1 (where the widening convolution's C_in/K_L branches must also divide C_out),
    /// C_out in the blocks after it. With <paramref name="widenFirst"/> and a width change, the first convolution
    /// changes the width instead (see <see cref="WidenFirstProblems"/>).
    /// </summary>
    public static List<string> KProblems(int inChannels, int outChannels, int blocks, IReadOnlyList<int> k, bool widenFirst = false)
    {
        if (widenFirst && inChannels != outChannels) return WidenFirstProblems(inChannels, outChannels, k);
        var problems = new List<string>();
        for (var i = 0; i < k.Count; i++)
        {
            var first = FirstBlockK(k[i], inChannels);
            if (k[i] <= 0) problems.Add(Inv($"K_{i + 1} = {k[i]} is not positive"));
            else if (k[i] > outChannels) problems.Add(Inv($"K_{i + 1} = {k[i]} exceeds the {outChannels} channels of the stage"));
            else if (inChannels % first != 0) problems.Add(Inv($"K_{i + 1} = {k[i]} does not divide the {inChannels} input channels of block 1"));
            else if ((blocks > 1 || inChannels == outChannels) && outChannels % k[i] != 0) problems.Add(Inv($"K_{i + 1} = {k[i]} does not divide the {outChannels} channels of {(blocks > 2 ? Inv($"blocks 2-{blocks}") : "block 2")}"));
        }
        if (problems.Count == 0 && k.Count > 0 && inChannels != outChannels)
        {
            var branches = inChannels / FirstBlockK(k[k.Count - 1], inChannels);
            if (outChannels % branches != 0)
            {
                problems.Add(Inv($"the widening last convolution of block 1 has {branches} branches ({inChannels}/K_{k.Count}), which do not divide its {outChannels} output channels"));
            }
        }
        return problems;
    }

    /// <summary>
    /// The same for a stage whose first block changes width in its first convolution (IGC-V1's primary group
    /// convolution): that convolution maps C_in to C_out with C_out/K_1 branches, each reading C_in/(C_out/K_1)
    /// channels and writing K_1, and every convolution after it groups C_out. So every K_l must divide C_out and
    /// the C_out/K_1 branches must divide C_in.
    /// </summary>
    private static List<string> WidenFirstProblems(int inChannels, int outChannels, IReadOnlyList<int> k)
    {
        var problems = new List<string>();
        for (var i = 0; i < k.Count; i++)
        {
            if (k[i] <= 0) problems.Add(Inv($"K_{i + 1} = {k[i]} is not positive"));
            else if (k[i] > outChannels) problems.Add(Inv($"K_{i + 1} = {k[i]} exceeds the {outChannels} channels of the stage"));
            else if (outChannels % k[i] != 0) problems.Add(Inv($"K_{i + 1} = {k[i]} does not divide the {outChannels} channels of the stage"));
        }
        if (problems.Count == 0 && k.Count > 0 && inChannels % (outChannels / k[0]) != 0)
        {
            problems.Add(Inv($"the widening first convolution of block 1 has {outChannels / k[0]} branches ({outChannels}/K_1), which do not divide its {inChannels} input channels"));
        }
        return problems;
    }

    /// <summary>Whether K fits a stage from C_in to C_out with blocks after the first.</summary>
    public static bool KFits(int inChannels, int outChannels, IReadOnlyList<int> k, bool widenFirst = false) =>
        KProblems(inChannels, outChannels, 2, k, widenFirst).Count == 0;

    /// <summary>The divisors of n in increasing order.</summary>
    public static List<long> Divisors(long n)
    {
        var small = new List<long>();
        var large = new List<long>();
        for (long d = 1; d * d <= n; d++)
        {
            if (n % d != 0) continue;
            small.Add(d);
            if (d * d != n) large.Add(n / d);
        }
        large.Reverse();
        small.AddRange(large);
        return small;
    }

    private static string Inv(FormattableString text) => FormattableString.Invariant(text);
}
