using Igcv2.Design;

namespace Igcv2.Tests.Design;

/// <summary>The shared checks the generator reports, at the level of a spec.</summary>
public class NetworkValidatorTests
{
    private static NetworkSpec Igcv2Star(bool looseStage2, bool looseStage3) => new(3, 32, 100, EquatableArray.Create<LayerSpec>(
        new StemSpec(64),
        new StageSpec(416, 6, EquatableArray.Create(1, 8, 8, 8)),
        new StageSpec(832, 6, EquatableArray.Create(1, 8, 8, 8), Stride: 2, Loose: looseStage2),
        new StageSpec(1664, 6, EquatableArray.Create(1, 8, 8, 8), Stride: 2, Loose: looseStage3)));

    [Fact]
    public void Igcv2_star_C416_is_not_dense_in_stages_2_and_3()
    {
        var result = NetworkValidator.Validate(Igcv2Star(false, false));
        Assert.Null(result.Plan);
        var notDense = result.Issues.Where(i => i.Id == "IGCV001").ToList();
        Assert.Equal([2, 3], notDense.Select(i => i.LayerIndex));
        Assert.All(notDense, i => Assert.True(i.IsError));
        Assert.Contains("(density 0.62)", notDense[1].Message); // 832 -> 1664
        Assert.Contains("(density 0.31)", notDense[1].Message); // 1664 -> 1664
    }

    [Fact]
    public void Loose_turns_IGCV001_into_a_warning_and_the_plan_is_built()
    {
        var result = NetworkValidator.Validate(Igcv2Star(true, true));
        Assert.NotNull(result.Plan);
        Assert.All(result.Issues.Where(i => i.Id == "IGCV001"), i => Assert.False(i.IsError));
        Assert.Equal(18, result.Plan!.Blocks.Count);
    }

    [Fact]
    public void Validate_never_throws_on_random_specs()
    {
        int[] hostile = [int.MinValue, -1, 0, 1, 2, 3, 4, 7, 8, 16, 32, 64, 65536, 65537, int.MaxValue];
        var random = new Random(7);
        int Pick() => random.Next(3) == 0 ? hostile[random.Next(hostile.Length)] : new[] { 1, 2, 4, 8, 12, 16, 24, 32, 64 }[random.Next(9)];
        var plans = 0;
        for (var n = 0; n < 5_000; n++)
        {
            var layers = new List<LayerSpec>();
            for (var i = random.Next(5); i > 0; i--)
            {
                layers.Add(random.Next(6) == 0
                    ? new ClassifierSpec(Enumerable.Range(0, random.Next(4)).Select(_ => Pick()).ToEquatableArray(), random.Next(2) == 0)
                    : random.Next(5) == 0
                    ? new StemSpec(Pick(), random.Next(4) == 0 ? Pick() : 1)
                    : new StageSpec(Pick(), random.Next(4) == 0 ? Pick() : random.Next(1, 4),
                        Enumerable.Range(0, random.Next(6)).Select(_ => Pick()).ToEquatableArray(),
                        random.Next(4) == 0 ? Pick() : null,
                        random.Next(4) == 0 ? Pick() : random.Next(1, 3),
                        random.Next(4) == 0 ? Pick() : 2,
                        random.Next(2) == 0,
                        random.Next(2) == 0,
                        Spatial: random.Next(4) > 0,
                        Projection: random.Next(3) == 0,
                        WidenFirst: random.Next(3) == 0));
            }
            var spec = new NetworkSpec(random.Next(2) == 0 ? 3 : Pick(), random.Next(2) == 0 ? 8 : Pick(), random.Next(2) == 0 ? 10 : Pick(), layers.ToEquatableArray());
            var result = NetworkValidator.Validate(spec);
            Assert.Equal(result.Plan is null, result.Issues.Any(i => i.IsError));
            if (result.Plan is { } plan)
            {
                plans++;
                Assert.Equal(plan.Rows.Sum(r => r.Parameters), plan.ParameterCount);
            }
        }
        Assert.True(plans > 25, $"only {plans} valid specs");
    }

    private static NetworkSpec Head(int channels, int classes, params int[] k) =>
        new(3, 8, classes, EquatableArray.Create<LayerSpec>(new StemSpec(channels), new ClassifierSpec(EquatableArray.Create(k))));

    [Fact]
    public void Table8_head_counts_its_two_group_convolutions_BN_and_the_bias()
    {
        // IGCV2* after the pooling, 2048 -> 1000, g1 = g2 = 8: W_1 2048 x 256, W_2 1000 x 256.
        var result = NetworkValidator.Validate(Head(2048, 1000, 256, 256));
        var head = result.Plan!.Classifier;
        Assert.True(head.IsGrouped);
        Assert.Equal([8, 8], head.Convs.Select(c => c.Branches));
        Assert.Equal([256, 125], head.Convs.Select(c => c.OutPerBranch));
        Assert.Equal(2048L * 256 + 1000L * 256, head.Weights);
        Assert.Equal(head.Weights + 2 * 2048 + 1000, head.Parameters);
        Assert.Equal(head.Weights, head.MultiplyAdds);
        Assert.Equal("out[j*8 + g] = in[g*256 + j]", Assert.Single(head.Permutations).Formula);
        var row = result.Plan.Rows[^1];
        Assert.Equal(("Classifier", "[256, 256] 1x1", head.Parameters), (row.Kind, row.K, row.Parameters));
    }

    [Fact]
    public void A_Classifier_without_K_is_the_fully_connected_layer_the_network_ends_with_anyway()
    {
        var declared = NetworkValidator.Validate(Head(64, 10)).Plan!;
        var implicitHead = NetworkValidator.Validate(new NetworkSpec(3, 8, 10, EquatableArray.Create<LayerSpec>(new StemSpec(64)))).Plan!;
        Assert.False(declared.Classifier.IsGrouped);
        Assert.Equal(implicitHead.Classifier, declared.Classifier);
        Assert.Equal(64L * 10 + 10, declared.Classifier.Parameters);
    }

    [Theory]
    [InlineData(new[] { 256, 256 }, "IGCV002", false)] // Table 8: dense, 32 paths per pair
    [InlineData(new[] { 8, 256 }, null, false)] // complementary
    [InlineData(new[] { 4, 256 }, "IGCV001", true)] // prod(K) = 1024: a class reaches half the channels
    [InlineData(new[] { 256 }, "IGCV004", true)]
    [InlineData(new[] { 256, 0 }, "IGCV003", true)]
    [InlineData(new[] { 16, 128 }, "IGCV003", true)] // 16 branches do not divide 1000 classes
    [InlineData(new[] { 4096, 1 }, "IGCV003", true)] // K_1 larger than the 2048 pooled channels
    public void Head_checks(int[] k, string? id, bool error)
    {
        var result = NetworkValidator.Validate(Head(2048, 1000, k));
        if (id is null)
        {
            Assert.Empty(result.Issues);
            return;
        }
        var issue = Assert.Single(result.Issues);
        Assert.Equal((id, error, 1), (issue.Id, issue.IsError, issue.LayerIndex));
        Assert.Equal(error, result.Plan is null);
    }

    [Fact]
    public void A_Classifier_that_is_not_last_is_IGCV008()
    {
        var spec = new NetworkSpec(3, 8, 10, EquatableArray.Create<LayerSpec>(
            new StemSpec(64), new ClassifierSpec(EquatableArray<int>.Empty), new StageSpec(64, 1, EquatableArray.Create(1, 8, 8))));
        var issue = Assert.Single(NetworkValidator.Validate(spec).Issues);
        Assert.Equal(("IGCV008", 1), (issue.Id, issue.LayerIndex));
    }

    [Fact]
    public void A_head_with_more_classes_than_channels_is_complementary_only_with_one_path_per_pair()
    {
        // 512 -> 1000: K = [16, 64] links every pair twice (IGCV2-0.25's width); K = [8, 64] once.
        var redundant = Assert.Single(NetworkValidator.Validate(Head(512, 1000, 16, 64)).Issues);
        Assert.Equal(("IGCV002", false), (redundant.Id, redundant.IsError));
        Assert.Contains("2 paths where 1 would do", redundant.Message);
        Assert.Contains("K = [8, 64] is complementary", redundant.Message);
        Assert.Empty(NetworkValidator.Validate(Head(512, 1000, 8, 64)).Issues);
    }

    [Fact]
    public void Loose_does_not_silence_a_redundant_head()
    {
        var spec = new NetworkSpec(3, 8, 1000, EquatableArray.Create<LayerSpec>(new StemSpec(2048), new ClassifierSpec(EquatableArray.Create(256, 256), Loose: true)));
        var issue = Assert.Single(NetworkValidator.Validate(spec).Issues);
        Assert.Equal(("IGCV002", false), (issue.Id, issue.IsError));
    }

    [Fact]
    public void WidenFirst_and_Projection_change_nothing_where_the_shapes_do_not_change()
    {
        NetworkSpec Net(bool options) => new(3, 8, 10, EquatableArray.Create<LayerSpec>(
            new StemSpec(64), new StageSpec(64, 4, EquatableArray.Create(1, 8, 8), Projection: options, WidenFirst: options)));
        Assert.Equal(NetworkPlan.Create(Net(false)).Blocks, NetworkPlan.Create(Net(true)).Blocks);
        Assert.Empty(NetworkValidator.Validate(Net(true)).Issues);
    }
}
