using Igcv2.Design;
using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

/// <summary>The fused P_l + skip + activation and its backward against the unfused ops they replace.</summary>
[Collection(KernelCollection.Name)]
public sealed class ShuffleActivationTests(KernelFixture fixture)
{
    // 3 samples of 12 channels on a 3x5 map, 2 used: groups 4 (K = 3) is a permutation that is not its own inverse.
    private static readonly int[] Shape = [3, 12, 3, 5];
    private const int N = 2, Groups = 4, Used = N * 12 * 15;

    public static TheoryData<CpuLauncher, Activation, bool> Cases()
    {
        var data = new TheoryData<CpuLauncher, Activation, bool>();
        foreach (var launcher in T.Launchers)
        foreach (var activation in new[] { Activation.None, Activation.Relu, Activation.Relu6 })
        foreach (var skip in new[] { false, true })
        {
            data.Add(launcher, activation, skip);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_equals_shuffle_then_add_then_activation(CpuLauncher launcher, Activation activation, bool withSkip)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        using var x = Scaled(device, 20);
        using var skip = Scaled(device, 21);
        using var fused = T.Poisoned(device, Shape);
        ops.ShuffleAddActivation(x, withSkip ? skip : null, fused, N, Groups, activation);

        using var expected = T.Poisoned(device, Shape);
        ops.ChannelShuffle(x, expected, N, Groups);
        if (withSkip) ops.Add(expected, skip, expected, N);
        Activate(ops, activation, expected, expected);

        var ys = fused.ToArray();
        Assert.Equal(expected.ToArray().AsSpan(0, Used).ToArray(), ys.AsSpan(0, Used).ToArray());
        T.Untouched(ys, Used, "y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_equals_activation_backward_then_the_skip_copy_then_the_inverse_shuffle(CpuLauncher launcher, Activation activation, bool withSkip)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        using var y = Scaled(device, 22);
        Activate(ops, activation, y, y);
        using var gy = T.Random(device, new Random(23), Shape);
        using var gx = T.Poisoned(device, Shape);
        using var gSkip = T.Poisoned(device, Shape);
        ops.ActivationBackwardShuffle(y, gy, gx, withSkip ? gSkip : null, N, 12 / Groups, activation);

        using var masked = T.Poisoned(device, Shape);
        if (activation == Activation.Relu) ops.ReluBackward(y, gy, masked, N);
        else if (activation == Activation.Relu6) ops.Relu6Backward(y, gy, masked, N);
        else ops.Copy(gy, masked);
        using var expected = T.Poisoned(device, Shape);
        ops.ChannelShuffle(masked, expected, N, 12 / Groups);

        var gxs = gx.ToArray();
        Assert.Equal(expected.ToArray().AsSpan(0, Used).ToArray(), gxs.AsSpan(0, Used).ToArray());
        T.Untouched(gxs, Used, "gx");
        var skips = gSkip.ToArray();
        if (withSkip)
        {
            Assert.Equal(masked.ToArray().AsSpan(0, Used).ToArray(), skips.AsSpan(0, Used).ToArray());
            T.Untouched(skips, Used, "gSkip");
        }
        else
        {
            Assert.All(skips, v => Assert.True(float.IsNaN(v)));
        }
    }

    public static TheoryData<CpuLauncher, Activation, bool, bool> NormCases()
    {
        var data = new TheoryData<CpuLauncher, Activation, bool, bool>();
        foreach (var launcher in T.Launchers)
        foreach (var activation in new[] { Activation.None, Activation.Relu, Activation.Relu6 })
        foreach (var skip in new[] { false, true })
        {
            data.Add(launcher, activation, skip, false);
        }
        // Synchronised BN (one process: the reducer leaves the sums as they are) takes its own path.
        data.Add(CpuLauncher.HostParallel, Activation.Relu, true, true);
        data.Add(CpuLauncher.Accelerator, Activation.Relu6, false, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(NormCases))]
    public void Backward_through_BN_equals_the_activation_backward_shuffle_then_BN_backward(CpuLauncher launcher, Activation activation, bool withSkip, bool synchronized)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        // BN's input x (a convolution's output) and its forward, so the saved statistics are the batch's.
        using var x = Scaled(device, 30);
        using var bn = new NormTensors(device, 12, gammaSeed: 31, betaSeed: 32);
        var (gamma, mean, invStd) = (bn.Gamma, bn.Mean, bn.InvStd);
        using var y = T.Poisoned(device, Shape);
        ops.BatchNormShuffleAddActivation(x, gamma, bn.Beta, mean, invStd, bn.RunningMean, bn.RunningVar, null, y, N, 0.1f, 1e-5f, Groups, activation);
        using var gy = T.Random(device, new Random(33), Shape);
        var previous = ops.StatisticsReducer;
        ops.StatisticsReducer = synchronized ? new OneProcess() : null;
        try
        {
            using var gx = T.Poisoned(device, Shape);
            using var gSkip = T.Poisoned(device, Shape);
            using var gGamma = T.Poisoned(device, 12);
            using var gBeta = T.Poisoned(device, 12);
            // Without an activation y is not read: null must do.
            ops.ActivationShuffleBatchNormBackward(activation == Activation.None ? null : y, gy, withSkip ? gSkip : null, 12 / Groups, activation, x, gamma, mean, invStd, gx, gGamma, gBeta, N);

            // The oracle: the two ops, through a tensor.
            using var m = T.Poisoned(device, Shape);
            using var expectedSkip = T.Poisoned(device, Shape);
            using var expected = T.Poisoned(device, Shape);
            using var expectedGamma = T.Poisoned(device, 12);
            using var expectedBeta = T.Poisoned(device, 12);
            ops.ActivationBackwardShuffle(y, gy, m, withSkip ? expectedSkip : null, N, 12 / Groups, activation);
            ops.BatchNormBackward(x, m, gamma, mean, invStd, expected, expectedGamma, expectedBeta, N);

            var gxs = gx.ToArray();
            Assert.Equal(expected.ToArray().AsSpan(0, Used).ToArray(), gxs.AsSpan(0, Used).ToArray());
            T.Untouched(gxs, Used, "gx");
            Assert.Equal(expectedGamma.ToArray(), gGamma.ToArray());
            Assert.Equal(expectedBeta.ToArray(), gBeta.ToArray());
            Assert.Contains(gGamma.ToArray(), v => v != 0f);
            var skips = gSkip.ToArray();
            if (withSkip)
            {
                Assert.Equal(expectedSkip.ToArray().AsSpan(0, Used).ToArray(), skips.AsSpan(0, Used).ToArray());
                T.Untouched(skips, Used, "gSkip");
            }
            else
            {
                Assert.All(skips, v => Assert.True(float.IsNaN(v)));
            }
        }
        finally
        {
            ops.StatisticsReducer = previous;
        }
    }

    [Fact]
    public void Backward_through_BN_refuses_an_output_over_an_input_it_still_reads()
    {
        var ops = fixture.Host.Ops;
        using var y = fixture.Host.Allocate(Shape);
        using var gy = fixture.Host.Allocate(Shape);
        using var x = fixture.Host.Allocate(Shape);
        using var gx = fixture.Host.Allocate(Shape);
        using var c = fixture.Host.Allocate(12);
        foreach (var (output, skip) in new (Tensor, Tensor?)[] { (gy, null), (y, null), (x, null), (gx, gy), (gx, gx) })
        {
            var error = Assert.Throws<ArgumentException>(() =>
                ops.ActivationShuffleBatchNormBackward(y, gy, skip, 12 / Groups, Activation.Relu, x, c, c, c, output, c, c, N));
            Assert.Contains(nameof(Ops.ActivationShuffleBatchNormBackward), error.Message);
        }
        Assert.Throws<ArgumentNullException>(() => ops.ActivationShuffleBatchNormBackward(null, gy, null, 12 / Groups, Activation.Relu, x, c, c, c, gx, c, c, N));
    }

    private sealed class OneProcess : IStatisticsReducer
    {
        public void SumStatistics(Span<double> values)
        {
        }
    }

    [Fact]
    public void The_inverse_groups_undo_the_forward_permutation()
    {
        var ops = fixture.Host.Ops;
        using var x = T.Random(fixture.Host, new Random(24), Shape);
        using var shuffled = T.Poisoned(fixture.Host, Shape);
        using var back = T.Poisoned(fixture.Host, Shape);
        using var ones = fixture.Host.Allocate(Shape);
        ops.Fill(ones, 1f);
        ops.ShuffleAddActivation(x, null, shuffled, N, Groups, Activation.None);
        ops.ActivationBackwardShuffle(ones, shuffled, back, null, N, 12 / Groups, Activation.None);
        Assert.Equal(x.ToArray().AsSpan(0, Used).ToArray(), back.ToArray().AsSpan(0, Used).ToArray());
        Assert.NotEqual(x.ToArray().AsSpan(0, Used).ToArray(), shuffled.ToArray().AsSpan(0, Used).ToArray());
    }

    [Fact]
    public void Groups_that_do_not_divide_the_channels_or_an_aliased_output_are_refused()
    {
        var ops = fixture.Host.Ops;
        using var x = fixture.Host.Allocate(Shape);
        using var y = fixture.Host.Allocate(Shape);
        var error = Assert.Throws<ArgumentException>(() => ops.ShuffleAddActivation(x, null, y, N, 5, Activation.Relu));
        Assert.Contains("groups = 5", error.Message);
        Assert.Throws<ArgumentException>(() => ops.ShuffleAddActivation(x, null, x, N, Groups, Activation.Relu));
        Assert.Throws<ArgumentException>(() => ops.ActivationBackwardShuffle(y, x, x, null, N, 3, Activation.Relu));
    }

    /// <summary>Values in [-8, 8], so that ReLU6 clips on both sides.</summary>
    private static Tensor Scaled(Device device, int seed)
    {
        var t = T.Random(device, new Random(seed), Shape);
        t.CopyFrom(t.ToArray().Select(v => 8 * v).ToArray());
        return t;
    }

    private static void Activate(Ops ops, Activation activation, Tensor x, Tensor y)
    {
        if (activation == Activation.Relu) ops.Relu(x, y, N);
        else if (activation == Activation.Relu6) ops.Relu6(x, y, N);
    }
}
