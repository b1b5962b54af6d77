using Igcv2.Design;
using static Igcv2.Tests.Design.DesignFixtures;

namespace Igcv2.Tests.Design;

/// <summary>The paper's counts (Tables 2 and 5): weights C*S*K_1 + C*sum K_l, multiply-adds = weights x output positions.</summary>
public class CountingTests
{
    [Theory]
    [InlineData(144, new[] { 1, 12, 12 }, 4752)] // 144*9 + 144*24
    [InlineData(98, new[] { 2, 7, 7 }, 3136)] // 98*18 + 98*14
    [InlineData(64, new[] { 1, 8, 8 }, 1600)]
    public void Block_weights_are_the_papers(int channels, int[] k, long weights)
    {
        Assert.Equal(weights, Balance.Weights(channels, k));
        var block = Block(channels, channels, k);
        Assert.Equal(weights, block.Weights);
        Assert.Equal(weights, block.Convs.Sum(c => (long)c.OutChannels * c.K * c.KernelSize * c.KernelSize));
    }

    [Fact]
    public void Multiply_adds_are_weights_times_output_positions_and_parameters_add_BN_gamma_and_beta()
    {
        var block = Block(144, 144, 1, 12, 12);
        Assert.Equal(4752L * 8 * 8, block.MultiplyAdds);
        Assert.Equal(4752L + 2 * (144 + 144 + 144), block.Parameters);

        // A stride-2 block counts every convolution at the halved map.
        var strided = NetworkPlan.Build(new NetworkSpec(64, 32, 10, EquatableArray.Create<LayerSpec>(
            new StageSpec(128, 1, EquatableArray.Create(1, 16, 8), Stride: 2)))).Blocks[0];
        Assert.Equal(16, strided.OutputSize);
        Assert.Equal(64 * 9 + 64 * 16 + 128 * 8, strided.Weights);
        Assert.Equal(strided.Weights * 16 * 16, strided.MultiplyAdds);
        Assert.Equal(strided.Weights + 2L * (64 + 64 + 128), strided.Parameters);
    }

    [Fact]
    public void Table1_C64_counts_add_up_layer_by_layer()
    {
        var plan = NetworkPlan.Create(new NetworkSpec(3, 32, 100, EquatableArray.Create<LayerSpec>(
            new StemSpec(64),
            new StageSpec(64, 6, EquatableArray.Create(1, 8, 8)),
            new StageSpec(128, 6, EquatableArray.Create(1, 16, 8), Stride: 2),
            new StageSpec(256, 6, EquatableArray.Create(1, 32, 8), Stride: 2))));

        long stem = 3 * 64 * 9 + 2 * 64;
        long stage1 = 6 * (64 * 9 + 64 * 8 + 64 * 8 + 2 * 3 * 64);
        long stage2 = (64 * 9 + 64 * 16 + 128 * 8 + 2 * (64 + 64 + 128)) + 5 * (128 * 9 + 128 * 16 + 128 * 8 + 2 * 3 * 128);
        long stage3 = (128 * 9 + 128 * 32 + 256 * 8 + 2 * (128 + 128 + 256)) + 5 * (256 * 9 + 256 * 32 + 256 * 8 + 2 * 3 * 256);
        long classifier = 256 * 100 + 100;
        Assert.Equal(stem + stage1 + stage2 + stage3 + classifier, plan.ParameterCount);
        Assert.Equal(146_276L, plan.ParameterCount);

        long macs = 3 * 64 * 9 * 1024
            + 6 * (64 * 9 + 64 * 16) * 1024L
            + (64 * 9 + 64 * 16 + 128 * 8) * 256L + 5 * (128 * 9 + 128 * 24) * 256L
            + (128 * 9 + 128 * 32 + 256 * 8) * 64L + 5 * (256 * 9 + 256 * 40) * 64L
            + 256 * 100;
        Assert.Equal(macs, plan.MultiplyAdds);
    }

    [Fact]
    public void Counts_that_overflow_64_bits_are_reported_not_thrown()
    {
        var spec = new NetworkSpec(65536, 16384, 65536, EquatableArray.Create<LayerSpec>(
            new StemSpec(65536),
            new StageSpec(65536, 4096, EquatableArray.Create(1, 65536))));
        var result = NetworkValidator.Validate(spec);
        Assert.Null(result.Plan);
        Assert.Contains(result.Issues, i => i.Id == "IGCV007" && i.Message.Contains("overflow"));
    }
}
