using Igcv2.Design;
using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

/// <summary>
/// Both gradients of a convolution in one op (Conv2dBackward, BatchNormShuffleConv2dBackward) against their oracle, the
/// weight gradient and the input gradient as two ops. The host fuses a 1x1 convolution with at least two branches a core
/// into one pass over gy; every other case (3x3, stride 2, few branches) runs the two passes, and must match them too.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class FusedConvBackwardTests(KernelFixture fixture)
{
    public static TheoryData<CpuLauncher, int, int, int, int, int> Cases()
    {
        var data = new TheoryData<CpuLauncher, int, int, int, int, int>();
        int fused = 2 * Environment.ProcessorCount;
        foreach (var launcher in T.Launchers)
        {
            // (channels in, channels out, size, k, groups): 1x1 with enough branches to fuse (17x17: partial chunks and
            // vectors; a widening block), 1x1 with one branch (the two passes); 3x3 channel-wise and group convolutions,
            // which run the two passes (9x9 and 17x17 rows: the tiles and their tails; 6x6: the narrow-map loop).
            data.Add(launcher, 2 * fused, 2 * fused, 17, 1, fused);
            data.Add(launcher, 2 * fused, 4 * fused, 6, 1, fused);
            data.Add(launcher, 8, 8, 6, 1, 1);
            data.Add(launcher, fused, fused, 9, 3, fused);
            data.Add(launcher, 2 * fused, 2 * fused, 17, 3, 2 * fused);
            data.Add(launcher, 8, 8, 6, 3, 8);
            data.Add(launcher, 2 * fused, 2 * fused, 9, 3, fused);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Both_gradients_in_one_op_equal_the_weight_then_the_input_gradient(CpuLauncher launcher, int cin, int cout, int size, int k, int groups)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        const int n = 3;
        using var x = T.Random(device, new Random(60 + cin + k), n + 1, cin, size, size);
        using var w = T.Random(device, new Random(61), cout, cin / groups, k, k);
        using var gy = T.Random(device, new Random(62), n + 1, cout, size, size);
        using var gwExpected = T.Poisoned(device, w.Shape);
        using var gxExpected = T.Poisoned(device, x.Shape);
        ops.Conv2dBackwardWeight(x, gy, gwExpected, n, groups, 1);
        ops.Conv2dBackwardInput(gy, w, gxExpected, n, groups, 1);

        using var gw = T.Poisoned(device, w.Shape);
        using var gx = T.Poisoned(device, x.Shape);
        ops.Conv2dBackward(x, gy, w, gw, gx, n, groups, 1);
        AssertSame(launcher, gwExpected, gw, "gw");
        AssertSame(launcher, gxExpected, gx, "gx", n * cin * size * size);

        // Without gx, the weight gradient alone.
        using var gwOnly = T.Poisoned(device, w.Shape);
        ops.Conv2dBackward(x, gy, w, gwOnly, null, n, groups, 1);
        AssertSame(launcher, gwExpected, gwOnly, "gw without gx");
    }

    /// <summary>The 1x1 cases: the normalised input P(BN(c)) feeds only 1x1 convolutions.</summary>
    public static TheoryData<CpuLauncher, int, int, int, int, int> PointwiseCases()
    {
        var data = new TheoryData<CpuLauncher, int, int, int, int, int>();
        foreach (var row in Cases())
        {
            if ((int)row[4] == 1) data.Add((CpuLauncher)row[0], (int)row[1], (int)row[2], (int)row[3], (int)row[4], (int)row[5]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PointwiseCases))]
    public void Both_gradients_of_the_convolution_of_BN_input_equal_the_two_ops(CpuLauncher launcher, int cin, int cout, int size, int k, int groups)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        const int n = 3;
        int branches = cin / 2; // P moves channels across W's branches
        using var c = T.Random(device, new Random(70 + cin), n + 1, cin, size, size);
        using var bn = new NormTensors(device, cin, gammaSeed: 71, betaSeed: 72);
        ops.BatchNormTrainingStatistics(c, bn.Mean, bn.InvStd, bn.RunningMean, bn.RunningVar, n, 0.1f, 1e-5f);
        using var w = T.Random(device, new Random(73), cout, cin / groups, k, k);
        using var gy = T.Random(device, new Random(74), n + 1, cout, size, size);
        using var gwExpected = T.Poisoned(device, w.Shape);
        using var gxExpected = T.Poisoned(device, c.Shape);
        ops.BatchNormShuffleConv2dBackwardWeight(c, bn.Gamma, bn.Beta, bn.Mean, bn.InvStd, branches, gy, gwExpected, n, groups);
        ops.Conv2dBackwardInput(gy, w, gxExpected, n, groups, 1);

        using var gw = T.Poisoned(device, w.Shape);
        using var gx = T.Poisoned(device, c.Shape);
        ops.BatchNormShuffleConv2dBackward(c, bn.Gamma, bn.Beta, bn.Mean, bn.InvStd, branches, gy, w, gw, gx, n, groups);
        AssertSame(launcher, gwExpected, gw, "gw");
        AssertSame(launcher, gxExpected, gx, "gx", n * cin * size * size);
    }

    /// <summary>Bit for bit on the host (the same loops in the same order); within rounding on the device, whose group reductions keep no order.</summary>
    private static void AssertSame(CpuLauncher launcher, Tensor expected, Tensor actual, string what, int? used = null)
    {
        var e = expected.ToArray();
        var a = actual.ToArray();
        int count = used ?? e.Length;
        if (launcher == CpuLauncher.HostParallel) Assert.True(e.AsSpan(0, count).SequenceEqual(a.AsSpan(0, count)), $"{what} differs from the two ops");
        else T.Close(e.Take(count).Select(v => (double)v).ToArray(), a, 1e-5, what, count);
        if (used is not null) T.Untouched(a, count, what);
    }

    [Fact]
    public void An_output_that_shares_memory_with_an_input_or_a_wrong_gw_is_refused()
    {
        var device = fixture.Host;
        var ops = device.Ops;
        using var x = device.Allocate(2, 8, 4, 4);
        using var gy = device.Allocate(2, 8, 4, 4);
        using var w = device.Allocate(8, 2, 1, 1);
        using var gw = device.Allocate(8, 2, 1, 1);
        using var gx = device.Allocate(2, 8, 4, 4);
        var error = Assert.Throws<ArgumentException>(() => ops.Conv2dBackward(x, gy, w, gw, x, 2, 4, 1));
        Assert.Contains("gx must not be the same tensor as x", error.Message);
        error = Assert.Throws<ArgumentException>(() => ops.Conv2dBackward(x, gy, w, gw, gy, 2, 4, 1));
        Assert.Contains("gx must not be the same tensor as gy", error.Message);
        error = Assert.Throws<ArgumentException>(() => ops.Conv2dBackward(x, gy, w, w, gx, 2, 4, 1));
        Assert.Contains("gw must not be the same tensor as w", error.Message);
        using var wrong = device.Allocate(8, 4, 1, 1);
        error = Assert.Throws<ArgumentException>(() => ops.Conv2dBackward(x, gy, w, wrong, gx, 2, 4, 1));
        Assert.Contains("gw must have shape [8, 2, 1, 1]", error.Message);
        using var c = device.Allocate(8);
        error = Assert.Throws<ArgumentException>(() => ops.BatchNormShuffleConv2dBackward(x, c, c, c, c, 2, gy, w, gw, x, 2, 4));
        Assert.Contains("gx must not be the same tensor as x", error.Message);
    }
}
