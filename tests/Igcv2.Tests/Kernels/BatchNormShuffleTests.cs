using Igcv2.Design;
using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

/// <summary>BN_l + P_l + skip + activation in one normalising pass against the two ops it replaces, bit for bit.</summary>
[Collection(KernelCollection.Name)]
public sealed class BatchNormShuffleTests(KernelFixture fixture)
{
    // 3 samples of 12 channels on a 3x5 map, 2 used; groups 4 (K = 3) is a permutation that is not its own inverse.
    private static readonly int[] Shape = [3, 12, 3, 5];
    private const int N = 2, C = 12, Used = N * 12 * 15;

    public static TheoryData<CpuLauncher, int, Activation, bool> Cases()
    {
        var data = new TheoryData<CpuLauncher, int, Activation, bool>();
        foreach (var launcher in T.Launchers)
        foreach (var (groups, activation, skip) in new[]
        {
            (4, Activation.None, false), (4, Activation.Relu, true), (3, Activation.Relu6, false),
            (1, Activation.Relu, true), (12, Activation.None, true), (6, Activation.Relu, false),
        })
        {
            data.Add(launcher, groups, activation, skip);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Equals_batch_norm_then_shuffle_add_activation(CpuLauncher launcher, int groups, Activation activation, bool withSkip)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        var random = new Random(31);
        using var x = T.Random(device, random, Shape);
        x.CopyFrom(x.ToArray().Select(v => 3 * v + 0.5f).ToArray());
        using var skip = T.Random(device, random, Shape);
        using var gammaValues = T.Random(device, random, C);
        using var betaValues = T.Random(device, random, C);

        (float[] Y, float[] Mean, float[] InvStd, float[] RunningMean, float[] RunningVar) Run(bool fused)
        {
            using var y = T.Poisoned(device, Shape);
            using var mean = T.Poisoned(device, C);
            using var invStd = T.Poisoned(device, C);
            using var runningMean = T.From(device, Enumerable.Range(0, C).Select(i => 0.1f * i).ToArray(), C);
            using var runningVar = T.From(device, Enumerable.Repeat(1.5f, C).ToArray(), C);
            if (fused)
            {
                ops.BatchNormShuffleAddActivation(x, gammaValues, betaValues, mean, invStd, runningMean, runningVar, withSkip ? skip : null, y, N,
                    BatchNormLayerMomentum, Epsilon, groups, activation);
            }
            else
            {
                using var normalised = T.Poisoned(device, Shape);
                ops.BatchNormTraining(x, gammaValues, betaValues, normalised, mean, invStd, runningMean, runningVar, N, BatchNormLayerMomentum, Epsilon);
                ops.ShuffleAddActivation(normalised, withSkip ? skip : null, y, N, groups, activation);
            }
            return (y.ToArray(), mean.ToArray(), invStd.ToArray(), runningMean.ToArray(), runningVar.ToArray());
        }

        var expected = Run(fused: false);
        var actual = Run(fused: true);
        Assert.Equal(expected.Y.AsSpan(0, Used).ToArray(), actual.Y.AsSpan(0, Used).ToArray());
        T.Untouched(actual.Y, Used, "y");
        Assert.Equal(expected.Mean, actual.Mean);
        Assert.Equal(expected.InvStd, actual.InvStd);
        Assert.Equal(expected.RunningMean, actual.RunningMean);
        Assert.Equal(expected.RunningVar, actual.RunningVar);
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void The_skip_may_be_the_output_itself(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        var ops = device.Ops;
        var random = new Random(32);
        using var x = T.Random(device, random, Shape);
        using var gamma = T.Random(device, random, C);
        using var beta = T.Random(device, random, C);
        var skipValues = T.Random(device, random, Shape).ToArray();
        using var mean = device.Allocate(C);
        using var invStd = device.Allocate(C);
        using var runningMean = device.Allocate(C);
        using var runningVar = device.Allocate(C);

        using var separate = device.Allocate(Shape);
        using var skip = T.From(device, skipValues, Shape);
        ops.BatchNormShuffleAddActivation(x, gamma, beta, mean, invStd, runningMean, runningVar, skip, separate, N, BatchNormLayerMomentum, Epsilon, 4, Activation.Relu);
        using var inPlace = T.From(device, skipValues, Shape);
        ops.Fill(runningMean, 0f);
        ops.Fill(runningVar, 0f);
        ops.BatchNormShuffleAddActivation(x, gamma, beta, mean, invStd, runningMean, runningVar, inPlace, inPlace, N, BatchNormLayerMomentum, Epsilon, 4, Activation.Relu);
        Assert.Equal(separate.ToArray().AsSpan(0, Used).ToArray(), inPlace.ToArray().AsSpan(0, Used).ToArray());
    }

    [Fact]
    public void Groups_that_do_not_divide_the_channels_or_an_output_aliasing_x_are_refused()
    {
        var ops = fixture.Host.Ops;
        using var x = fixture.Host.Allocate(Shape);
        using var y = fixture.Host.Allocate(Shape);
        using var c = fixture.Host.Allocate(C);
        var error = Assert.Throws<ArgumentException>(() => ops.BatchNormShuffleAddActivation(x, c, c, c, c, c, c, null, y, N, 0.1f, Epsilon, 5, Activation.Relu));
        Assert.Contains("groups = 5", error.Message);
        Assert.Throws<ArgumentException>(() => ops.BatchNormShuffleAddActivation(x, c, c, c, c, c, c, null, x, N, 0.1f, Epsilon, 4, Activation.Relu));
    }

    public static TheoryData<CpuLauncher> Launchers() => new(T.Launchers);

    private const float BatchNormLayerMomentum = 0.1f, Epsilon = 1e-5f;
}
