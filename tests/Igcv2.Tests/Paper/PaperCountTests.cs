using Igcv2.Design;

namespace Igcv2.Tests.Paper;

/// <summary>
/// The count table of samples/Igcv2.PaperNetworks: the generator's arithmetic against the closed form, and
/// how far each network lands from the paper's figures under the counting convention that matches them
/// (convolution weights only, no BN, no classifier; Xception with its projection shortcuts).
/// </summary>
public sealed class PaperCountTests
{
    public static TheoryData<string> AllNetworks => PaperSpecs.Names();

    [Fact]
    public void Declared_networks_are_the_specs_of_the_table()
    {
        Assert.Equal(PaperSpecs.Named("Xception (C35) D8").Spec, PaperXceptionC35D8.Spec);
        Assert.Equal(PaperSpecs.Named("Xception (C35) D20").Spec, Igcv2.Samples.XceptionC35.Spec);
        Assert.Equal(PaperSpecs.Named("Xception (C35) D26").Spec, PaperXceptionC35D26.Spec);
        Assert.Equal(PaperSpecs.Named("Xception (C83) D20").Spec, PaperXceptionC83.Spec);
        Assert.Equal(PaperSpecs.Named("IGCV2 (C80) complementary D20").Spec, PaperIgcv2C80ComplementaryD20.Spec);
    }

    [Fact]
    public void Declared_networks_have_the_closed_form_counts()
    {
        Check("Xception (C35) D8", PaperXceptionC35D8.ParameterCount, PaperXceptionC35D8.MultiplyAdds, PaperXceptionC35D8.Summary);
        Check("Xception (C35) D20", Igcv2.Samples.XceptionC35.ParameterCount, Igcv2.Samples.XceptionC35.MultiplyAdds, Igcv2.Samples.XceptionC35.Summary);
        Check("Xception (C35) D26", PaperXceptionC35D26.ParameterCount, PaperXceptionC35D26.MultiplyAdds, PaperXceptionC35D26.Summary);
        Check("Xception (C83) D20", PaperXceptionC83.ParameterCount, PaperXceptionC83.MultiplyAdds, PaperXceptionC83.Summary);
        Check("IGCV2 (C80) complementary D20", PaperIgcv2C80ComplementaryD20.ParameterCount, PaperIgcv2C80ComplementaryD20.MultiplyAdds,
            PaperIgcv2C80ComplementaryD20.Summary);

        static void Check(string name, long parameterCount, long multiplyAdds, ModelSummary summary)
        {
            var expected = PaperArithmetic.Count(PaperSpecs.Named(name));
            Assert.Equal(expected.Parameters, parameterCount);
            Assert.Equal(expected.MultiplyAdds, multiplyAdds);
            Assert.Equal(expected.Weights, summary.Weights);
            Assert.Equal(expected.Parameters, summary.Parameters);
            Assert.Equal(expected.MultiplyAdds, summary.MultiplyAdds);
            var classifier = Assert.Single(summary.Rows, r => r.Kind == "Classifier");
            Assert.Equal(expected.ClassifierWeights, classifier.Weights);
        }
    }

    [Theory]
    [MemberData(nameof(AllNetworks))]
    public void Every_network_of_the_table_has_the_closed_form_counts(string name)
    {
        var network = PaperSpecs.Named(name);
        var validation = NetworkValidator.Validate(network.Spec);
        Assert.DoesNotContain(validation.Issues, i => i.IsError);
        var plan = Assert.IsType<NetworkPlan>(validation.Plan);
        var expected = PaperArithmetic.Count(network);
        Assert.Equal(expected.Parameters, plan.ParameterCount);
        Assert.Equal(expected.MultiplyAdds, plan.MultiplyAdds);
        Assert.Equal(expected.Weights, plan.Rows.Sum(r => r.Weights));
        Assert.Equal(expected.ConvWeights, plan.Rows.Where(r => r.Kind != "Classifier").Sum(r => r.Weights));
        Assert.Equal(expected.ConvMultiplyAdds, plan.Rows.Where(r => r.Kind != "Classifier").Sum(r => r.MultiplyAdds));
        Assert.Equal(3 * network.Blocks, plan.Blocks.Count);
    }

    [Fact]
    public void Xception_C35_D20_counts_by_hand()
    {
        // Stem 3*35*9 = 945; stage 1: 6 * 35*(9 + 35) = 9,240; stage 2: 35*9 + 70*35 + 5 * 70*(9 + 70) = 30,415;
        // stage 3: 70*9 + 140*70 + 5 * 140*(9 + 140) = 114,730. Projections 35*70 + 70*140 = 12,250 (the paper's
        // 0.168M). Classifier 140*100.
        var counts = PaperArithmetic.Count(PaperSpecs.Named("Xception (C35) D20"));
        Assert.Equal(155_330 + 12_250, counts.ConvWeights);
        Assert.Equal(155_330 + 12_250 + 14_000, Igcv2.Samples.XceptionC35.Summary.Weights);
        Assert.Equal((12_250L, 1_254_400L), PaperArithmetic.Projections(PaperSpecs.Named("Xception (C35) D20")));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(20)]
    [InlineData(26)]
    public void Xceptions_FLOPs_gap_is_the_projection_shortcuts_at_every_depth(int depth)
    {
        // The paper's FLOPs have three significant digits (+-0.0005 x 10^8). Without the projections ours fall
        // 1.25M short at every depth; the classifier's 14,000 cannot close that gap. With them they land on it.
        var network = PaperSpecs.Named($"Xception (C35) D{depth}");
        var projections = PaperArithmetic.Projections(network);
        var withProjections = NetworkPlan.Create(network.Spec);
        var without = NetworkPlan.Create((network with { Projection = false }).Spec);
        Assert.Equal(projections.Weights, withProjections.Blocks.Sum(b => b.Shortcut?.Weights ?? 0));
        Assert.Equal(projections.MultiplyAdds, withProjections.MultiplyAdds - without.MultiplyAdds);
        Assert.True(network.Paper.MultiplyAdds - without.MultiplyAdds > 1_000_000);
        var conv = withProjections.Rows.Where(r => r.Kind != "Classifier").Sum(r => r.MultiplyAdds);
        Assert.InRange(conv, network.Paper.MultiplyAdds - 50_000, network.Paper.MultiplyAdds + 50_000);
    }

    [Theory]
    [MemberData(nameof(AllNetworks))]
    public void As_the_paper_counts_each_network_lands_where_the_sample_says(string name)
    {
        var network = PaperSpecs.Named(name);
        var plan = NetworkPlan.Create(network.Spec);
        var conv = plan.Rows.Where(r => r.Kind != "Classifier").ToList();
        var weights = conv.Sum(r => r.Weights) / network.Paper.Parameters;
        var multiplyAdds = conv.Sum(r => r.MultiplyAdds) / network.Paper.MultiplyAdds;
        var (low, high) = network.Family switch
        {
            "Xception" => (0.99, 1.01),
            "IGCV2" => (0.965, 1.005),
            "IGCV2*" => (0.985, 1.005),
            "IGC-V1" => (0.975, 1.005),
            // The readings that do not match: the complementary K lands 10-33% low, L* of the first stage 10-17%
            // low, IGC-V1 as Table 1 draws it (K = [2, C/2]) 9-93% high.
            "IGCV2 complementary" => (0.6, 0.91),
            "IGCV2* L* of x" => (0.8, 0.91),
            "IGC-V1 Table 1" => (1.085, 2.1),
            _ => throw new ArgumentException(network.Family),
        };
        Assert.InRange(weights, low, high);
        Assert.InRange(multiplyAdds, low, high);
    }

    [Fact]
    public void IGCV2_star_with_L_per_stage_width_is_dense_and_with_L_of_the_first_stage_is_not()
    {
        foreach (var x in new[] { 216, 304, 416 })
        {
            var plan = NetworkPlan.Create(PaperSpecs.Igcv2Star(x, new(1, 1)).Spec);
            Assert.All(plan.Blocks, b => Assert.True(Analyze(b).IsDense, $"C{x} {b.Name} is not dense"));
        }
        var firstStageL = NetworkPlan.Create(PaperSpecs.Named("IGCV2* (C416) L* of x").Spec);
        Assert.All(firstStageL.Blocks.Where(b => b.Stage == 1), b => Assert.True(Analyze(b).IsDense));
        // The 416 -> 832 transition groups its 416 inputs, which 8^3 = 512 paths still cover; after it, not.
        Assert.True(Analyze(firstStageL.Blocks.Single(b => b.Stage == 2 && b.Index == 1)).IsDense);
        Assert.All(firstStageL.Blocks.Where(b => b.Stage == 3 || b.Index > 1 && b.Stage == 2), b => Assert.False(Analyze(b).IsDense));
        Assert.Equal(512.0 / 832, Analyze(firstStageL.Blocks.First(b => b.Stage == 2 && b.Index == 2)).Density, 6);
        Assert.Equal([1, 8, 8, 8, 8], PaperSpecs.StarK(832));
        Assert.Equal([1, 8, 8, 8], PaperSpecs.StarK(512));
    }

    [Fact]
    public void IGCV2_C64_read_literally_is_complementary_in_stage_1_only()
    {
        var plan = NetworkPlan.Create(PaperSpecs.Named("IGCV2 (C64) D20").Spec);
        Assert.All(plan.Blocks.Where(b => b.Stage == 1), b => Assert.True(Analyze(b).IsComplementary));
        Assert.All(plan.Blocks.Where(b => b.Stage > 1), b =>
        {
            var report = Analyze(b);
            Assert.True(report.IsDense);
            Assert.False(report.IsComplementary);
        });
        var complementary = NetworkPlan.Create(PaperSpecs.Named("IGCV2 (C64) complementary D20").Spec);
        Assert.All(complementary.Blocks, b => Assert.True(Analyze(b).IsComplementary));
    }

    [Fact]
    public void A_declared_paper_network_trains_as_declared()
    {
        using var device = Device.Create(DeviceKind.Cpu);
        using var model = new PaperXceptionC35D8(device, batchSize: 2, seed: 1);
        Assert.Equal(PaperXceptionC35D8.ParameterCount, model.Parameters.Sum(p => p.Length));
        using var input = device.Allocate(2, 3, 32, 32);
        input.CopyFrom(Enumerable.Range(0, 2 * 3 * 32 * 32).Select(i => (float)Math.Sin(i * 0.37)).ToArray());
        var logits = model.Forward(input, training: false);
        Assert.Equal([2, 100], logits.Shape);
        Assert.All(logits.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    private static ConnectivityReport Analyze(BlockPlan block) =>
        Connectivity.Analyze(block.Convs, block.Permutations) ?? throw new InvalidOperationException(block.Name + ": too large to count");
}
