using Igcv2.Design;

namespace Igcv2.Tests.Design;

/// <summary>The balance condition, paper eqs. (7)-(14).</summary>
public class BalanceTests
{
    [Theory]
    [InlineData(new[] { 1, 8, 8 }, new long[] { 8, 8 })] // K_1 = 1: the 1x1 convolutions only
    [InlineData(new[] { 1, 32, 8 }, new long[] { 32, 8 })]
    [InlineData(new[] { 2, 7, 7 }, new long[] { 18, 7, 7 })] // S*K_1 = 9*2
    [InlineData(new[] { 2, 24 }, new long[] { 18, 24 })]
    public void Terms_are_S_K1_then_K2_to_KL(int[] k, long[] terms) => Assert.Equal(terms, Balance.Terms(k));

    [Theory]
    [InlineData(new[] { 1, 8, 8 }, false)]
    [InlineData(new[] { 1, 16, 8 }, false)] // exactly twice: still near
    [InlineData(new[] { 1, 32, 8 }, true)]
    [InlineData(new[] { 1, 16, 16 }, false)]
    [InlineData(new[] { 1, 64 }, false)] // one term: nothing to balance
    [InlineData(new[] { 4, 4, 4 }, true)] // 36 against 4
    public void Far_from_balance_means_the_largest_term_exceeds_twice_the_smallest(int[] k, bool far) =>
        Assert.Equal(far, Balance.IsFarFromBalance(k));

    [Theory]
    [InlineData(64, 64, 3, new[] { 1, 8, 8 })]
    [InlineData(256, 256, 3, new[] { 1, 16, 16 })]
    [InlineData(128, 256, 3, new[] { 1, 16, 16 })]
    [InlineData(100, 100, 3, new[] { 1, 10, 10 })]
    [InlineData(144, 144, 3, new[] { 1, 12, 12 })]
    [InlineData(512, 512, 4, new[] { 1, 8, 8, 8 })]
    public void Suggested_channel_wise_K_is_the_balanced_complementary_one(int inChannels, int outChannels, int l, int[] expected)
    {
        Assert.Equal(expected, Balance.SuggestComplementary(inChannels, outChannels, l, channelWise: true));
    }

    [Fact]
    public void Suggestions_are_complementary_fit_and_minimise_the_weights()
    {
        foreach (var c in new[] { 16, 24, 36, 48, 64, 98, 128 })
        {
            for (var l = 2; l <= 4; l++)
            {
                var best = Balance.SuggestComplementary(c, c, l, channelWise: false);
                if (best is null) continue;
                Assert.Equal(c, best.Aggregate(1, (p, x) => p * x));
                Assert.True(Shapes.KFits(c, c, best));
                // No complementary K of this L with K_2..K_L >= 2 has fewer weights (exhaustive over ordered factorizations).
                foreach (var other in Factorizations(c, l).Where(k => k.Skip(1).All(x => x >= 2)))
                {
                    Assert.True(Balance.Weights(c, best) <= Balance.Weights(c, other), $"C = {c}: {string.Join(",", other)} beats {string.Join(",", best)}");
                }
            }
        }
    }

    [Fact]
    public void No_suggestion_when_no_complementary_K_exists()
    {
        Assert.Null(Balance.SuggestComplementary(7, 7, 3, channelWise: true)); // 7 = K_2*K_3 with both >= 2: impossible
        Assert.Null(Balance.SuggestComplementary(64, 64, 1, channelWise: true));
        Assert.Null(Balance.SuggestComplementary(0, 64, 3, channelWise: true));
    }

    [Fact]
    public void Optimal_L_is_ln_SC_or_one_plus_ln_C_when_channel_wise()
    {
        Assert.Equal(Math.Log(9 * 64), Balance.OptimalL(64, channelWise: false), 12);
        Assert.Equal(1 + Math.Log(64), Balance.OptimalL(64, channelWise: true), 12);
    }

    private static IEnumerable<int[]> Factorizations(int n, int parts)
    {
        if (parts == 1)
        {
            yield return [n];
            yield break;
        }
        for (var d = 1; d <= n; d++)
        {
            if (n % d != 0) continue;
            foreach (var rest in Factorizations(n / d, parts - 1)) yield return [d, .. rest];
        }
    }

    [Theory]
    [InlineData(2048, 1000, 2, new[] { 8, 256 })] // Table 8's head: 272,384 weights against g1 = g2 = 8's 780,288
    [InlineData(64, 16, 2, new[] { 4, 16 })]
    [InlineData(64, 10, 2, new[] { 2, 32 })]
    [InlineData(16, 8, 3, new[] { 2, 2, 4 })]
    [InlineData(7, 10, 2, null)] // 7 is prime: no K_1, K_2 >= 2 with K_1 K_2 = 7
    public void The_complementary_head_with_the_fewest_weights(int channels, int classes, int l, int[]? expected)
    {
        var k = Balance.SuggestComplementaryHead(channels, classes, l);
        Assert.Equal(expected, k);
        if (k is null) return;
        var head = ClassifierPlan.Create(channels, classes, 1, k);
        var report = Connectivity.Analyze(head.Convs, head.Permutations.Append(new PermutationPlan(classes, 1)).ToList())!;
        Assert.True(report.IsComplementary, $"K = [{string.Join(", ", k)}]: {report}");
    }
}
