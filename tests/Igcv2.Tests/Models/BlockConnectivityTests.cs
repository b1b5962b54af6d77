using Igcv2.Design;

namespace Igcv2.Tests.Models;

/// <summary>
/// The composed linear map of one block, W = P_L W_L ... P_1 W_1 run through the kernels (BN and ReLU
/// aside), measured by perturbing one input channel at a time: it links exactly the pairs the plan's
/// path count says it links.
/// </summary>
public sealed class BlockConnectivityTests : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);

    public void Dispose() => device.Dispose();

    [Theory]
    [InlineData(64, 64, new[] { 1, 8, 8 })]
    [InlineData(64, 128, new[] { 1, 16, 8 })]
    [InlineData(48, 48, new[] { 2, 24 })]
    [InlineData(16, 16, new[] { 1, 2, 2 })]      // prod(K) = 4 < 16: sparse
    [InlineData(32, 32, new[] { 1, 8, 8 })]      // prod(K) = 64 > 32: dense, redundant
    public void Measured_dependence_matches_the_path_count(int inChannels, int outChannels, int[] k)
    {
        const int size = 3;
        var stage = new StageSpec(outChannels, 1, EquatableArray.Create(k), Loose: true);
        var block = NetworkPlan.Build(new NetworkSpec(inChannels, size, 2, EquatableArray.Create<LayerSpec>(stage))).Blocks[0];
        var report = Connectivity.Analyze(block.Convs, block.Permutations)!;

        var random = new Random(1);
        var weights = block.Convs.Select(c =>
        {
            var w = device.Allocate(c.WeightShape);
            w.CopyFrom(Enumerable.Range(0, (int)w.Length).Select(_ => (float)(0.5 + random.NextDouble())).ToArray());
            return w;
        }).ToList();

        var baseline = Run(block, weights, new float[inChannels * size * size]);
        var dependent = 0L;
        for (var i = 0; i < inChannels; i++)
        {
            var input = new float[inChannels * size * size];
            for (var p = 0; p < size * size; p++) input[i * size * size + p] = 1f;
            var output = Run(block, weights, input);
            for (var o = 0; o < outChannels; o++)
            {
                var changed = Enumerable.Range(0, size * size).Any(p => Math.Abs(output[o * size * size + p] - baseline[o * size * size + p]) > 1e-6);
                if (changed) dependent++;
            }
        }

        Assert.Equal(report.PairsReached, dependent);
        if (report.IsDense) Assert.Equal((long)inChannels * outChannels, dependent);
        foreach (var w in weights) w.Dispose();
    }

    private float[] Run(BlockPlan block, IReadOnlyList<Tensor> weights, float[] input)
    {
        var ops = device.Ops;
        var size = block.OutputSize;
        var x = device.Allocate(1, block.InChannels, block.InputSize, block.InputSize);
        x.CopyFrom(input);
        for (var l = 0; l < block.L; l++)
        {
            var conv = block.Convs[l];
            var y = device.Allocate(1, conv.OutChannels, size, size);
            ops.Conv2d(x, weights[l], y, 1, conv.Branches, conv.Stride);
            x.Dispose();
            var p = block.Permutations[l];
            var shuffled = device.Allocate(1, conv.OutChannels, size, size);
            ops.ChannelShuffle(y, shuffled, 1, p.Branches);
            y.Dispose();
            x = shuffled;
        }
        var result = x.ToArray();
        x.Dispose();
        return result;
    }
}
