using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

[Collection(KernelCollection.Name)]
public sealed class BatchNormTests(KernelFixture fixture)
{
    private const float Epsilon = 1e-5f;
    private const float Momentum = 0.1f;

    // (N, n, C, H, W): a plane wider than a vector, a 1x1 map, and a tail sample left alone.
    public static TheoryData<CpuLauncher, int, int, int, int, int> Shapes()
    {
        var data = new TheoryData<CpuLauncher, int, int, int, int, int>();
        foreach (var launcher in T.Launchers)
        {
            data.Add(launcher, 3, 2, 3, 4, 5);
            data.Add(launcher, 4, 4, 2, 1, 1);
            data.Add(launcher, 2, 2, 2, 5, 7);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Training_normalises_with_batch_statistics_and_updates_running_ones(CpuLauncher launcher, int bigN, int n, int c, int h, int w)
    {
        var device = fixture.For(launcher);
        var random = new Random(7);
        using var x = T.Random(device, random, bigN, c, h, w);
        // An offset far from zero makes a naive one-pass variance lose digits.
        var shifted = Array.ConvertAll(x.ToArray(), v => v * 0.5f + 100f);
        x.CopyFrom(shifted);
        using var gamma = T.Random(device, random, c);
        using var beta = T.Random(device, random, c);
        using var y = T.Poisoned(device, bigN, c, h, w);
        using var mean = T.Poisoned(device, c);
        using var invStd = T.Poisoned(device, c);
        using var runningMean = T.Random(device, random, c);
        using var runningVar = T.From(device, Enumerable.Repeat(1.5f, c).ToArray(), c);
        var rm0 = T.D(runningMean);
        var rv0 = T.D(runningVar);

        device.Ops.BatchNormTraining(x, gamma, beta, y, mean, invStd, runningMean, runningVar, n, Momentum, Epsilon);

        int plane = h * w;
        var (ey, emean, evar) = Reference.BatchNorm(T.D(x), T.D(gamma), T.D(beta), n, c, plane, Epsilon);
        var actual = y.ToArray();
        T.Close(ey, actual, 2e-3, "y");
        T.Untouched(actual, ey.Length, "y");
        T.Close(emean, mean.ToArray(), 1e-6, "savedMean");
        T.Close(Array.ConvertAll(evar, v => 1 / Math.Sqrt(v + Epsilon)), invStd.ToArray(), 1e-3, "savedInvStd");
        double m = n * plane;
        T.Close(emean.Select((mu, i) => (1 - Momentum) * rm0[i] + Momentum * mu).ToArray(), runningMean.ToArray(), 1e-6, "runningMean");
        T.Close(evar.Select((v, i) => (1 - Momentum) * rv0[i] + Momentum * v * m / Math.Max(1, m - 1)).ToArray(), runningVar.ToArray(), 1e-4, "runningVar");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Inference_uses_running_statistics(CpuLauncher launcher, int bigN, int n, int c, int h, int w)
    {
        var device = fixture.For(launcher);
        var random = new Random(8);
        using var x = T.Random(device, random, bigN, c, h, w);
        using var gamma = T.Random(device, random, c);
        using var beta = T.Random(device, random, c);
        using var runningMean = T.Random(device, random, c);
        using var runningVar = T.From(device, Enumerable.Range(1, c).Select(i => 0.5f * i).ToArray(), c);
        using var y = T.Poisoned(device, bigN, c, h, w);

        device.Ops.BatchNormInference(x, gamma, beta, runningMean, runningVar, y, n, Epsilon);

        double[] xs = T.D(x), g = T.D(gamma), b = T.D(beta), rm = T.D(runningMean), rv = T.D(runningVar);
        int plane = h * w;
        var expected = new double[n * c * plane];
        for (int i = 0; i < expected.Length; i++)
        {
            int ch = i / plane % c;
            expected[i] = (xs[i] - rm[ch]) / Math.Sqrt(rv[ch] + Epsilon) * g[ch] + b[ch];
        }
        var actual = y.ToArray();
        T.Close(expected, actual, 1e-5, "y");
        T.Untouched(actual, expected.Length, "y");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_matches_finite_differences_of_training_forward(CpuLauncher launcher, int bigN, int n, int c, int h, int w)
    {
        var device = fixture.For(launcher);
        var random = new Random(9);
        using var x = T.Random(device, random, bigN, c, h, w);
        using var gamma = T.Random(device, random, c);
        using var beta = T.Random(device, random, c);
        using var gy = T.Random(device, random, bigN, c, h, w);
        using var y = device.Allocate(bigN, c, h, w);
        using var mean = device.Allocate(c);
        using var invStd = device.Allocate(c);
        using var runningMean = T.From(device, new float[c], c);
        using var runningVar = T.From(device, Enumerable.Repeat(1f, c).ToArray(), c);
        using var gx = T.Poisoned(device, bigN, c, h, w);
        using var gGamma = T.Poisoned(device, c);
        using var gBeta = T.Poisoned(device, c);

        device.Ops.BatchNormTraining(x, gamma, beta, y, mean, invStd, runningMean, runningVar, n, Momentum, Epsilon);
        device.Ops.BatchNormBackward(x, gy, gamma, mean, invStd, gx, gGamma, gBeta, n);

        int plane = h * w, used = n * c * plane;
        double[] xs = T.D(x)[..used], g = T.D(gamma), b = T.D(beta), r = T.D(gy);
        double Loss(double[] xv, double[] gv, double[] bv) => T.Weighted(Reference.BatchNorm(xv, gv, bv, n, c, plane, Epsilon).Y, r, used);

        var actualGx = gx.ToArray();
        T.Close(T.Gradient(p => Loss(p, g, b), xs), actualGx, 2e-3, "gx");
        T.Untouched(actualGx, used, "gx");
        T.Close(T.Gradient(p => Loss(xs, p, b), g), gGamma.ToArray(), 1e-3, "gGamma");
        T.Close(T.Gradient(p => Loss(xs, g, p), b), gBeta.ToArray(), 1e-4, "gBeta");
    }

    [Fact]
    public void Rejects_statistics_of_the_wrong_length()
    {
        var device = fixture.Host;
        using var x = device.Allocate(2, 4, 3, 3);
        using var y = device.Allocate(2, 4, 3, 3);
        using var good = device.Allocate(4);
        using var bad = device.Allocate(5);
        var error = Assert.Throws<ArgumentException>(() =>
            device.Ops.BatchNormTraining(x, good, good, y, good, good, good, bad, 2, Momentum, Epsilon));
        Assert.Contains("runningVar must have shape [4], got [5]", error.Message);
    }

    [Fact]
    public void Training_mode_refuses_one_value_per_channel()
    {
        // One sample on a 1x1 map (the grouped head after the pooling at batch 1): the variance is 0, every
        // output would be beta and no gradient would pass, so the op says so instead.
        var device = fixture.Host;
        using var x = device.Allocate(3, 4, 1, 1);
        using var y = device.Allocate(3, 4, 1, 1);
        using var s = device.Allocate(4);
        var error = Assert.Throws<ArgumentException>(() => device.Ops.BatchNormTraining(x, s, s, y, s, s, s, s, 1, Momentum, Epsilon));
        Assert.Contains("more than one value per channel, got n = 1 over a 1x1 map", error.Message);
        device.Ops.BatchNormTraining(x, s, s, y, s, s, s, s, 2, Momentum, Epsilon);
    }
}
