using Igcv2.Design;
using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

/// <summary>
/// A 1x1 W_l whose input P(BN(c)) is never stored: its forward (BatchNormTrainingStatistics, then BatchNormShuffleConv2d)
/// and its weight gradient (BatchNormShuffleConv2dBackwardWeight) against their oracle, BN's training forward into a
/// tensor followed by the plain convolution or weight gradient of that tensor.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class RecomputedInputTests(KernelFixture fixture)
{
    public static TheoryData<CpuLauncher, int, int, int, int> Cases()
    {
        var data = new TheoryData<CpuLauncher, int, int, int, int>();
        foreach (var launcher in T.Launchers)
        {
            // (channels, size, W's groups, P's branches): the identity P_1 (1) and P_2s whose branches are not W's;
            // 17x17 planes are longer than one 256-value chunk and end in a partial vector.
            data.Add(launcher, 16, 6, 4, 1);
            data.Add(launcher, 16, 6, 4, 4);
            data.Add(launcher, 16, 17, 2, 8);
            data.Add(launcher, 24, 5, 3, 6);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Weight_gradient_from_BN_input_equals_the_one_of_the_stored_normalised_input(CpuLauncher launcher, int channels, int size, int groups, int branches)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        const int n = 3;
        int[] shape = [n + 1, channels, size, size];
        using var c = T.Random(device, new Random(40 + channels + size), shape);
        // A channel far from zero, so that normalising it matters.
        var values = c.ToArray();
        for (int s = 0; s < n + 1; s++)
        for (int i = 0; i < size * size; i++) values[(s * channels + 1) * size * size + i] = 5f + 0.25f * values[(s * channels + 1) * size * size + i];
        c.CopyFrom(values);
        using var bn = new NormTensors(device, channels, gammaSeed: 41, betaSeed: 42);
        using var stored = T.Poisoned(device, shape);
        NormalizeInto(ops, c, bn, stored, n, branches);
        using var gy = T.Random(device, new Random(43), shape);
        using var expected = T.Poisoned(device, channels, channels / groups, 1, 1);
        ops.Conv2dBackwardWeight(stored, gy, expected, n, groups, 1);

        using var gw = T.Poisoned(device, channels, channels / groups, 1, 1);
        ops.BatchNormShuffleConv2dBackwardWeight(c, bn.Gamma, bn.Beta, bn.Mean, bn.InvStd, branches, gy, gw, n, groups);

        // The host sums in the same order: bit for bit. The device's group reductions do not keep one order between launches.
        if (launcher == CpuLauncher.HostParallel) Assert.Equal(expected.ToArray(), gw.ToArray());
        else T.Close(T.D(expected), gw.ToArray(), 1e-5, "gw");
        Assert.All(gw.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Convolution_of_BN_input_with_its_statistics_alone_equals_BN_then_the_convolution_of_the_stored_input(CpuLauncher launcher, int channels, int size, int groups, int branches)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        const int n = 3;
        int[] shape = [n + 1, channels, size, size];
        using var c = T.Random(device, new Random(50 + channels + size), shape);
        using var w = T.Random(device, new Random(53), channels, channels / groups, 1, 1);
        // Two sets of BN's tensors, gamma and beta alike: the oracle's forward writes one's statistics, the fused ops the other's.
        using var bn = new NormTensors(device, channels, gammaSeed: 51, betaSeed: 52, runningMean: 0.25f, runningVar: 2f);
        using var fused = new NormTensors(device, channels, gammaSeed: 51, betaSeed: 52, runningMean: 0.25f, runningVar: 2f);

        // The oracle: BN's training forward (statistics and the normalised tensor), then the convolution.
        using var stored = T.Poisoned(device, shape);
        NormalizeInto(ops, c, bn, stored, n, branches);
        using var expected = T.Poisoned(device, shape);
        ops.Conv2d(stored, w, expected, n, groups, 1);

        ops.BatchNormTrainingStatistics(c, fused.Mean, fused.InvStd, fused.RunningMean, fused.RunningVar, n, 0.1f, 1e-5f);
        using var y = T.Poisoned(device, shape);
        ops.BatchNormShuffleConv2d(c, fused.Gamma, fused.Beta, fused.Mean, fused.InvStd, branches, w, y, n, groups);

        foreach (var (a, b, what) in new[] { (bn.Mean, fused.Mean, "mean"), (bn.InvStd, fused.InvStd, "invStd"), (bn.RunningMean, fused.RunningMean, "runningMean"), (bn.RunningVar, fused.RunningVar, "runningVar") })
        {
            Assert.True(a.ToArray().SequenceEqual(b.ToArray()), what);
        }
        var ys = y.ToArray();
        Assert.Equal(expected.ToArray().AsSpan(0, n * channels * size * size).ToArray(), ys.AsSpan(0, n * channels * size * size).ToArray());
        T.Untouched(ys, n * channels * size * size, "y");
    }

    /// <summary>BN's training forward of c into <paramref name="stored"/>, through P's <paramref name="branches"/> (1: the identity).</summary>
    private static void NormalizeInto(Ops ops, Tensor c, NormTensors bn, Tensor stored, int n, int branches)
    {
        if (branches == 1) ops.BatchNormTraining(c, bn.Gamma, bn.Beta, stored, bn.Mean, bn.InvStd, bn.RunningMean, bn.RunningVar, n, 0.1f, 1e-5f);
        else ops.BatchNormShuffleAddActivation(c, bn.Gamma, bn.Beta, bn.Mean, bn.InvStd, bn.RunningMean, bn.RunningVar, null, stored, n, 0.1f, 1e-5f, branches, Activation.None);
    }

    [Fact]
    public void A_3x3_weight_or_groups_that_do_not_divide_the_channels_are_refused()
    {
        var device = fixture.Host;
        var ops = device.Ops;
        using var x = device.Allocate(2, 8, 4, 4);
        using var gy = device.Allocate(2, 8, 4, 4);
        using var c = device.Allocate(8);
        using var w3 = device.Allocate(8, 1, 3, 3);
        using var w1 = device.Allocate(8, 4, 1, 1);
        var error = Assert.Throws<ArgumentException>(() => ops.BatchNormShuffleConv2dBackwardWeight(x, c, c, c, c, 1, gy, w3, 2, 8));
        Assert.Contains("1x1", error.Message);
        error = Assert.Throws<ArgumentException>(() => ops.BatchNormShuffleConv2dBackwardWeight(x, c, c, c, c, 3, gy, w1, 2, 2));
        Assert.Contains("shuffleGroups = 3", error.Message);
        error = Assert.Throws<ArgumentException>(() => ops.BatchNormShuffleConv2d(x, c, c, c, c, 1, w3, gy, 2, 8));
        Assert.Contains("1x1", error.Message);
        Assert.Throws<ArgumentException>(() => ops.BatchNormShuffleConv2d(x, c, c, c, c, 1, w1, x, 2, 2));
    }
}
