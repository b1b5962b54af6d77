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
