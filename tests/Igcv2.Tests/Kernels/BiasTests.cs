using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

[Collection(KernelCollection.Name)]
public sealed class BiasTests(KernelFixture fixture)
{
    // 19 features: vector bodies and scalar tails; 300 x 100 is large enough for the host launcher to go parallel.
    public static TheoryData<CpuLauncher, int, int, int> Cases()
    {
        var data = new TheoryData<CpuLauncher, int, int, int>();
        foreach (var launcher in T.Launchers)
        {
            data.Add(launcher, 5, 3, 19);
            data.Add(launcher, 320, 300, 100);
        }
        return data;
    }

    public static TheoryData<CpuLauncher> Launchers() => new(T.Launchers);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Add_bias_matches_reference_and_leaves_samples_beyond_n_untouched(CpuLauncher launcher, int batch, int n, int features)
    {
        var device = fixture.For(launcher);
        var random = new Random(30);
        using var x = T.Random(device, random, batch, features);
        using var b = T.Random(device, random, features);
        using var y = T.Poisoned(device, batch, features);

        device.Ops.AddBias(x, b, y, n);

        var ys = y.ToArray();
        T.Close(Reference.AddBias(T.D(x), T.D(b), n, features), ys, 1e-6, "y");
        T.Untouched(ys, n * features, "y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Add_bias_in_place_adds_to_the_first_n_samples_only(CpuLauncher launcher, int batch, int n, int features)
    {
        var device = fixture.For(launcher);
        var random = new Random(31);
        using var x = T.Random(device, random, batch, features);
        using var b = T.Random(device, random, features);
        var before = x.ToArray();

        device.Ops.AddBias(x, b, x, n);

        var xs = x.ToArray();
        T.Close(Reference.AddBias(Array.ConvertAll(before, v => (double)v), T.D(b), n, features), xs, 1e-6, "x");
        Assert.Equal(before[(n * features)..], xs[(n * features)..]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bias_backward_sums_the_first_n_samples_per_feature(CpuLauncher launcher, int batch, int n, int features)
    {
        var device = fixture.For(launcher);
        using var gy = T.Random(device, new Random(32), batch, features);
        // NaN beyond n: a sum that reads past the first n samples fails.
        var values = gy.ToArray();
        Array.Fill(values, float.NaN, n * features, (batch - n) * features);
        gy.CopyFrom(values);
        using var gb = T.Poisoned(device, features);

        device.Ops.BiasBackward(gy, gb, n);

        var expected = new double[features];
        for (int s = 0; s < n; s++)
        for (int f = 0; f < features; f++) expected[f] += values[s * features + f];
        T.Close(expected, gb.ToArray(), 1e-5, "gb");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Bias_backward_matches_finite_differences_of_add_bias(CpuLauncher launcher)
    {
        const int Batch = 5, N = 3, F = 19;
        var device = fixture.For(launcher);
        var random = new Random(33);
        using var x = T.Random(device, random, Batch, F);
        using var b = T.Random(device, random, F);
        using var gy = T.Random(device, random, Batch, F);
        using var gb = T.Poisoned(device, F);

        device.Ops.BiasBackward(gy, gb, N);

        double[] xs = T.D(x), r = T.D(gy);
        double Loss(double[] bv) => T.Weighted(Reference.AddBias(xs, bv, N, F), r, N * F);
        T.Close(T.Gradient(Loss, T.D(b)), gb.ToArray(), 1e-4, "gb");
    }

    [Fact]
    public void Add_bias_rejects_wrong_shapes_naming_the_op_and_argument()
    {
        var device = fixture.Host;
        using var x = device.Allocate(4, 6);
        using var b = device.Allocate(6);
        using var y = device.Allocate(4, 6);
        using var shortB = device.Allocate(5);
        using var wideY = device.Allocate(4, 7);
        using var image = device.Allocate(4, 6, 1, 1);

        var error = Assert.Throws<ArgumentException>(() => device.Ops.AddBias(x, shortB, y, 4));
        Assert.Equal("b", error.ParamName);
        Assert.Contains("AddBias: b must have shape [6], got [5]", error.Message);

        error = Assert.Throws<ArgumentException>(() => device.Ops.AddBias(x, b, wideY, 4));
        Assert.Equal("y", error.ParamName);
        Assert.Contains("AddBias: y must have shape [N, 6] (N >= 4), got [4, 7]", error.Message);

        error = Assert.Throws<ArgumentException>(() => device.Ops.AddBias(image, b, y, 4));
        Assert.Equal("x", error.ParamName);
        Assert.Contains("AddBias: x must be [N, F], got [4, 6, 1, 1]", error.Message);

        var range = Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.AddBias(x, b, y, 5));
        Assert.Contains("AddBias: n = 5 must be in [1, 4]", range.Message);
    }

    [Fact]
    public void Bias_backward_rejects_wrong_shapes_naming_the_op_and_argument()
    {
        var device = fixture.Host;
        using var gy = device.Allocate(4, 6);
        using var gb = device.Allocate(6);
        using var wrongGb = device.Allocate(6, 1);
        using var image = device.Allocate(4, 6, 1, 1);

        var error = Assert.Throws<ArgumentException>(() => device.Ops.BiasBackward(gy, wrongGb, 4));
        Assert.Equal("gb", error.ParamName);
        Assert.Contains("BiasBackward: gb must have shape [6], got [6, 1]", error.Message);

        error = Assert.Throws<ArgumentException>(() => device.Ops.BiasBackward(image, gb, 4));
        Assert.Equal("gy", error.ParamName);
        Assert.Contains("BiasBackward: gy must be [N, F], got [4, 6, 1, 1]", error.Message);

        var range = Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.BiasBackward(gy, gb, 0));
        Assert.Contains("BiasBackward: n = 0 must be in [1, 4]", range.Message);
    }

    [Fact]
    public void Bias_ops_reject_a_bias_that_shares_memory_with_the_output()
    {
        var device = fixture.Host;
        using var x = device.Allocate(1, 6);
        using var y = device.Allocate(1, 6);
        using var b = y.Reshape(6);
        var error = Assert.Throws<ArgumentException>(() => device.Ops.AddBias(x, b, y, 1));
        Assert.Equal("y", error.ParamName);
        Assert.Contains("AddBias: y must not be the same tensor as b", error.Message);

        using var gb = x.Reshape(6);
        error = Assert.Throws<ArgumentException>(() => device.Ops.BiasBackward(x, gb, 1));
        Assert.Equal("gb", error.ParamName);
    }
}
