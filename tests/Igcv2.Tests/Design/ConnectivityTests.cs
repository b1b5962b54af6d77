using Igcv2.Design;
using static Igcv2.Tests.Design.DesignFixtures;

namespace Igcv2.Tests.Design;

/// <summary>
/// The complementary condition (paper Condition 1) as path counts: with the interleaving permutations,
/// prod(K) = C links every (input, output) pair by exactly one path; a widening block by C_out/C_in.
/// </summary>
public class ConnectivityTests
{
    public static TheoryData<int, int[]> PaperComplementary => new()
    {
        { 64, [1, 8, 8] },      // IGCV2 C64, stage 1 (Table 1)
        { 128, [1, 16, 8] },    // stage 2
        { 256, [1, 32, 8] },    // stage 3
        { 98, [2, 7, 7] },      // Tables 2 and 5
        { 100, [1, 10, 10] },
        { 144, [1, 12, 12] },
        { 48, [2, 24] },        // IGC-V1 C48: K = [2, C/2]
        { 96, [2, 48] },
        { 192, [2, 96] },
        { 35, [1, 35] },        // Xception C35: K = [1, C]
        { 70, [1, 70] },
        { 140, [1, 140] },
        { 512, [1, 8, 8, 8] },  // IGCV2* where 8^3 = C
    };

    [Theory]
    [MemberData(nameof(PaperComplementary))]
    public void Every_paper_configuration_with_prod_K_equal_C_links_every_pair_by_exactly_one_path(int channels, int[] k)
    {
        Assert.Equal(channels, k.Aggregate(1, (p, x) => p * x));
        var report = Analyze(Block(channels, channels, k));
        Assert.Equal(1, report.MinPaths);
        Assert.Equal(1, report.MaxPaths);
        Assert.Equal((long)channels * channels, report.PairsReached);
        Assert.Equal(channels, report.PathsPerOutput);
        Assert.True(report.IsComplementary);
        Assert.Equal(1.0, report.Density);
    }

    [Theory]
    [InlineData(64, 128, new[] { 1, 16, 8 })]
    [InlineData(128, 256, new[] { 1, 32, 8 })]
    [InlineData(80, 160, new[] { 1, 16, 10 })]
    public void A_widening_block_with_prod_K_equal_C_out_links_every_pair_C_out_over_C_in_times(int inChannels, int outChannels, int[] k)
    {
        var report = Analyze(Block(inChannels, outChannels, k));
        var ratio = outChannels / inChannels;
        Assert.Equal(ratio, report.MinPaths);
        Assert.Equal(ratio, report.MaxPaths);
        Assert.Equal(ratio, report.ComplementaryPaths);
        Assert.Equal((long)inChannels * outChannels, report.PairsReached);
        Assert.True(report.IsComplementary);
    }

    [Theory]
    [InlineData(832, 1664, 0.62)] // IGCV2* C416, stage 3 block 1
    [InlineData(1664, 1664, 0.31)] // stage 3 blocks 2-6
    [InlineData(832, 832, 0.62)] // stage 2 blocks 2-6
    public void Igcv2_star_with_K_8_everywhere_is_not_dense_in_its_wide_stages(int inChannels, int outChannels, double density)
    {
        var report = Analyze(Block(inChannels, outChannels, 1, 8, 8, 8));
        Assert.Equal(512, report.PathsPerOutput);
        Assert.False(report.IsDense);
        Assert.Equal(0, report.MinPaths);
        Assert.Equal(512L * outChannels, report.PairsReached); // 512 distinct inputs per output
        Assert.Equal(density, Math.Round(report.Density, 2));
    }

    [Fact]
    public void Prod_K_below_C_is_sparse_and_above_C_is_redundant()
    {
        var sparse = Analyze(Block(64, 64, 1, 4, 4));
        Assert.False(sparse.IsDense);
        Assert.Equal(0.25, sparse.Density);

        var redundant = Analyze(Block(64, 64, 1, 8, 16));
        Assert.True(redundant.IsDense);
        Assert.False(redundant.IsComplementary);
        Assert.Equal(2, redundant.MaxPaths);
    }

    /// <summary>
    /// An independent check of <see cref="Connectivity.Analyze"/>: the dense 0/1 matrix of every group
    /// convolution and every permutation, multiplied out; entry (o, i) counts the paths from i to o.
    /// </summary>
    [Fact]
    public void Analyze_agrees_with_multiplying_the_dense_matrices_on_random_small_blocks()
    {
        var random = new Random(2018);
        var checkedBlocks = 0;
        for (var attempt = 0; attempt < 20_000 && checkedBlocks < 600; attempt++)
        {
            var inChannels = random.Next(1, 49);
            var outChannels = inChannels * new[] { 1, 1, 2, 3 }[random.Next(4)];
            var l = random.Next(2, 5);
            var divisors = Enumerable.Range(1, outChannels).Where(d => outChannels % d == 0).ToArray();
            var k = Enumerable.Range(0, l).Select(_ => divisors[random.Next(divisors.Length)]).ToArray();
            if (Shapes.KProblems(inChannels, outChannels, 1, k).Count > 0) continue;

            var block = Block(inChannels, outChannels, k);
            var paths = BruteForcePaths(block);
            var report = Analyze(block);
            var all = paths.Cast<long>().ToArray();
            var label = $"{inChannels} -> {outChannels}, K = [{string.Join(", ", k)}]";
            Assert.True(all.Min() == report.MinPaths, label);
            Assert.True(all.Max() == report.MaxPaths, label);
            Assert.True(all.Count(n => n > 0) == report.PairsReached, label);
            for (var o = 0; o < outChannels; o++)
            {
                Assert.True(Enumerable.Range(0, inChannels).Sum(i => paths[o, i]) == report.PathsPerOutput, label);
            }
            if (k.Aggregate(1L, (p, x) => p * x) == outChannels && inChannels == outChannels)
            {
                Assert.True(report.IsComplementary, label); // prod(K) = C: exactly one path per pair
            }
            checkedBlocks++;
        }
        Assert.True(checkedBlocks >= 500, $"only {checkedBlocks} random blocks were valid");
    }

    private static long[,] BruteForcePaths(BlockPlan block)
    {
        var m = Identity(block.InChannels);
        for (var l = 0; l < block.Convs.Count; l++)
        {
            m = Multiply(ConvMatrix(block.Convs[l]), m);
            m = Multiply(PermutationMatrix(block.Permutations[l]), m);
        }
        return m;
    }

    /// <summary>W[o, i] = 1 when input i and output o are in the same branch.</summary>
    private static long[,] ConvMatrix(GroupConvPlan conv)
    {
        var w = new long[conv.OutChannels, conv.InChannels];
        for (var o = 0; o < conv.OutChannels; o++)
        {
            for (var i = 0; i < conv.InChannels; i++) w[o, i] = i / conv.K == o / conv.OutPerBranch ? 1 : 0;
        }
        return w;
    }

    /// <summary>P[o, source[o]] = 1 for the gather out[o] = in[source[o]].</summary>
    private static long[,] PermutationMatrix(PermutationPlan permutation)
    {
        var source = permutation.Source();
        var p = new long[source.Length, source.Length];
        for (var o = 0; o < source.Length; o++) p[o, source[o]] = 1;
        return p;
    }

    private static long[,] Identity(int n)
    {
        var m = new long[n, n];
        for (var i = 0; i < n; i++) m[i, i] = 1;
        return m;
    }

    private static long[,] Multiply(long[,] a, long[,] b)
    {
        var rows = a.GetLength(0);
        var inner = a.GetLength(1);
        var cols = b.GetLength(1);
        Assert.Equal(inner, b.GetLength(0));
        var c = new long[rows, cols];
        for (var r = 0; r < rows; r++)
        {
            for (var x = 0; x < inner; x++)
            {
                var v = a[r, x];
                if (v == 0) continue;
                for (var col = 0; col < cols; col++) c[r, col] += v * b[x, col];
            }
        }
        return c;
    }
}
