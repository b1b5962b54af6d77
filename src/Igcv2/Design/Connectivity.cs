using System;
using System.Collections.Generic;

namespace Igcv2.Design;

/// <summary>
/// How the composed kernel of one block, P_L W_L ... P_1 W_1 (paper eq. 5), connects its input channels
/// to its output channels: the number of paths through the group convolutions and the interleaving
/// permutations for every (input, output) pair, counted exactly by walking the sparse structure.
/// </summary>
public sealed record ConnectivityReport(
    int InChannels,
    int OutChannels,
    long PathsPerOutput,
    long MinPaths,
    long MaxPaths,
    long PairsReached,
    int LastInChannels)
{
    public long TotalPairs => (long)InChannels * OutChannels;

    /// <summary>The fraction of (input, output) pairs joined by at least one path.</summary>
    public double Density => TotalPairs == 0 ? 0 : (double)PairsReached / TotalPairs;

    /// <summary>Dense: every output channel depends on every input channel.</summary>
    public bool IsDense => MinPaths >= 1;

    /// <summary>
    /// Paths per pair of a complementary block: 1, or C_out / C_in_L when its last convolution widens (it fans
    /// every path out to that many outputs; rounded up when it does not divide). A block that widens in its
    /// first convolution instead (WidenFirst) is complementary only with one path per pair.
    /// </summary>
    public long ComplementaryPaths => Math.Max(1, (OutChannels + LastInChannels - 1) / LastInChannels);

    /// <summary>The complementary condition (paper Condition 1): dense, and no pair linked more often than needed.</summary>
    public bool IsComplementary => IsDense && MaxPaths <= ComplementaryPaths;
}

public static class Connectivity
{
    /// <summary>Work above which <see cref="Analyze"/> declines (about a second of compile time).</summary>
    public const long WorkBudget = 400_000_000;

    /// <summary>The operations <see cref="Analyze"/> needs for these convolutions.</summary>
    public static long Work(IReadOnlyList<GroupConvPlan> convs)
    {
        if (convs.Count == 0) return 0;
        long channels = 0;
        foreach (var conv in convs) channels += conv.InChannels + conv.OutChannels;
        return (long)convs[convs.Count - 1].Branches * channels;
    }

    /// <summary>
    /// Counts the paths of the block made of <paramref name="convs"/>, each followed by its permutation
    /// (<paramref name="permutations"/>, same length). Outputs in one branch of the last convolution share
    /// their inputs, so one walk per branch (backwards: gather through each P_l, then each W_l adds the
    /// counts of its branch) gives the whole count matrix. Returns null above <see cref="WorkBudget"/>.
    /// </summary>
    public static ConnectivityReport? Analyze(IReadOnlyList<GroupConvPlan> convs, IReadOnlyList<PermutationPlan> permutations)
    {
        if (convs.Count == 0 || convs.Count != permutations.Count) throw new ArgumentException("One permutation per group convolution.");
        if (Work(convs) > WorkBudget) return null;

        var sources = new int[convs.Count][];
        for (var l = 0; l < convs.Count; l++)
        {
            var p = permutations[l];
            sources[l] = Interleaving.ChannelShuffle(p.Channels, p.Branches);
        }

        var last = convs[convs.Count - 1];
        var inChannels = convs[0].InChannels;
        var outChannels = last.OutChannels;
        long min = long.MaxValue, max = 0, reached = 0;
        var pathsPerOutput = 1L;
        foreach (var conv in convs) pathsPerOutput = SaturatingMultiply(pathsPerOutput, conv.K);

        for (var branch = 0; branch < last.Branches; branch++)
        {
            // Counts over the inputs of the last convolution: its branch reads K_L contiguous channels.
            var counts = new long[last.InChannels];
            for (var j = 0; j < last.K; j++) counts[branch * last.K + j] = 1;

            for (var l = convs.Count - 2; l >= 0; l--)
            {
                var conv = convs[l];
                // Undo P_l: input x of conv l+1 is output sources[l][x] of conv l.
                var outputs = new long[conv.OutChannels];
                for (var x = 0; x < counts.Length; x++) outputs[sources[l][x]] += counts[x];

                // Back through W_l: every input of a branch is linked to every output of that branch.
                var branchSums = new long[conv.Branches];
                for (var c = 0; c < outputs.Length; c++)
                {
                    var b = c / conv.OutPerBranch;
                    branchSums[b] = SaturatingAdd(branchSums[b], outputs[c]);
                }
                counts = new long[conv.InChannels];
                for (var i = 0; i < counts.Length; i++) counts[i] = branchSums[i / conv.K];
            }

            long reachedHere = 0;
            foreach (var n in counts)
            {
                if (n > 0) reachedHere++;
                if (n < min) min = n;
                if (n > max) max = n;
            }
            // Every output channel of this branch has this same row.
            reached += reachedHere * last.OutPerBranch;
        }

        return new ConnectivityReport(inChannels, outChannels, pathsPerOutput, min, max, reached, last.InChannels);
    }

    internal static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    internal static long SaturatingMultiply(long a, long b) => b != 0 && a > long.MaxValue / b ? long.MaxValue : a * b;
}
