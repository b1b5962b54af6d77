using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

[Collection(KernelCollection.Name)]
public sealed class ConvTests(KernelFixture fixture)
{
    public sealed record Case(string Name, int N, int Used, int Cin, int H, int W, int Cout, int K, int Groups, int Stride)
    {
        public int Ho => (H - 1) / Stride + 1;
        public int Wo => (W - 1) / Stride + 1;
        public override string ToString() => Name;
    }

    private static readonly Case[] Cases =
    [
        new("dense 3x3", 2, 2, 3, 6, 5, 4, 3, 1, 1),
        new("depthwise 3x3 7x7 stride 2, n < N", 3, 2, 4, 7, 7, 4, 3, 4, 2),
        new("depthwise 3x3 wide rows (vector path)", 2, 2, 2, 4, 19, 2, 3, 2, 1),
        new("grouped 1x1 widening 4 -> 8", 3, 2, 4, 5, 5, 8, 1, 2, 1),
        new("grouped 1x1 stride 2", 2, 1, 4, 7, 7, 4, 1, 2, 2),
        new("dense 3x3 stride 2 even size", 2, 2, 2, 6, 6, 3, 3, 1, 2),
        new("grouped 3x3 narrowing 6 -> 3, 1x1 map", 2, 2, 6, 1, 1, 3, 3, 3, 1),
        new("grouped 1x1 on a plane wider than the blocking chunks", 1, 1, 4, 23, 23, 6, 1, 2, 1),
        new("depthwise 3x3 stride 2, odd rows of 33 (split-column vector path)", 2, 2, 2, 5, 33, 2, 3, 2, 2),
        new("grouped 3x3 stride 2 widening 4 -> 8, rows of 20, n < N", 2, 1, 4, 4, 20, 8, 3, 2, 2),
        new("grouped 1x1 with 5 inputs a branch (four at a time, then one), 9x9", 2, 2, 10, 9, 9, 4, 1, 2, 1),
        new("depthwise 3x3 stride 2, rows of 16 (8 outputs: one whole vector, O[8] in the next)", 2, 2, 2, 5, 16, 2, 3, 2, 2),
        new("grouped 3x3 stride 2, rows of 15 (8 outputs, odd edge), n < N", 3, 2, 4, 6, 15, 4, 3, 2, 2),
        new("dense 3x3 on rows of 12, odd height (two rows at a time, then one)", 2, 2, 3, 5, 12, 4, 3, 1, 1),
        new("grouped 3x3 on rows of exactly 8, n < N", 3, 2, 4, 6, 8, 6, 3, 2, 1),
        new("depthwise 3x3 on rows of 9 (a whole vector, then a masked one)", 2, 2, 3, 3, 9, 3, 3, 3, 1),
    ];

    public static TheoryData<CpuLauncher, Case> All()
    {
        var data = new TheoryData<CpuLauncher, Case>();
        foreach (var launcher in T.Launchers) foreach (var c in Cases) data.Add(launcher, c);
        return data;
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Forward_matches_double_reference_and_writes_only_n_samples(CpuLauncher launcher, Case c)
    {
        var device = fixture.For(launcher);
        var random = new Random(1);
        using var x = T.Random(device, random, c.N, c.Cin, c.H, c.W);
        using var w = T.Random(device, random, c.Cout, c.Cin / c.Groups, c.K, c.K);
        using var y = T.Poisoned(device, c.N, c.Cout, c.Ho, c.Wo);

        device.Ops.Conv2d(x, w, y, c.Used, c.Groups, c.Stride);

        var expected = Reference.Conv2d(T.D(x), T.D(w), c.Used, c.Cin, c.H, c.W, c.Cout, c.K, c.Groups, c.Stride);
        var actual = y.ToArray();
        T.Close(expected, actual, 1e-5, "y");
        T.Untouched(actual, expected.Length, "y");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Backward_matches_finite_differences(CpuLauncher launcher, Case c)
    {
        var device = fixture.For(launcher);
        var random = new Random(2);
        using var x = T.Random(device, random, c.N, c.Cin, c.H, c.W);
        using var w = T.Random(device, random, c.Cout, c.Cin / c.Groups, c.K, c.K);
        using var gy = T.Random(device, random, c.N, c.Cout, c.Ho, c.Wo);
        using var gx = T.Poisoned(device, c.N, c.Cin, c.H, c.W);
        using var gw = T.Poisoned(device, c.Cout, c.Cin / c.Groups, c.K, c.K);

        device.Ops.Conv2dBackwardInput(gy, w, gx, c.Used, c.Groups, c.Stride);
        device.Ops.Conv2dBackwardWeight(x, gy, gw, c.Used, c.Groups, c.Stride);

        // L = sum gy * conv(x, w) over the first n samples: dL/dx and dL/dw are what the kernels return.
        double[] xs = T.D(x), ws = T.D(w), r = T.D(gy);
        int used = c.Used * c.Cout * c.Ho * c.Wo;
        double Loss(double[] xv, double[] wv) =>
            T.Weighted(Reference.Conv2d(xv, wv, c.Used, c.Cin, c.H, c.W, c.Cout, c.K, c.Groups, c.Stride), r, used);
        var expectedGx = T.Gradient(p => Loss(p, ws), xs[..(c.Used * c.Cin * c.H * c.W)]);
        var expectedGw = T.Gradient(p => Loss(xs, p), ws);

        var actualGx = gx.ToArray();
        T.Close(expectedGx, actualGx, 1e-4, "gx");
        T.Untouched(actualGx, expectedGx.Length, "gx");
        T.Close(expectedGw, gw.ToArray(), 1e-4, "gw");
    }

    [Fact]
    public void Launchers_agree_on_a_realistic_block_shape()
    {
        float[] Run(Device device)
        {
            var rnd = new Random(4);
            using var x = T.Random(device, rnd, 4, 16, 12, 12);
            using var w = T.Random(device, rnd, 16, 1, 3, 3);
            using var y = T.Poisoned(device, 4, 16, 12, 12);
            device.Ops.Conv2d(x, w, y, 4, 16, 1);
            return y.ToArray();
        }
        var host = Run(fixture.Host);
        var emulated = Run(fixture.Accelerator);
        T.Close(Array.ConvertAll(emulated, v => (double)v), host, 1e-5, "host vs accelerator");
    }

    [Fact]
    public void Shape_mismatch_names_expected_and_actual_shapes()
    {
        var device = fixture.Host;
        using var x = device.Allocate(2, 8, 6, 6);
        using var w = device.Allocate(8, 2, 1, 1);
        using var y = device.Allocate(2, 8, 5, 5);
        var error = Assert.Throws<ArgumentException>(() => device.Ops.Conv2d(x, w, y, 2, 4, 1));
        Assert.Contains("[N, 8, 6, 6]", error.Message);
        Assert.Contains("[2, 8, 5, 5]", error.Message);

        using var badW = device.Allocate(8, 4, 1, 1);
        var weightError = Assert.Throws<ArgumentException>(() => device.Ops.Conv2d(x, badW, y, 2, 4, 1));
        Assert.Contains("[8, 2, 1, 1]", weightError.Message);
        Assert.Contains("[8, 4, 1, 1]", weightError.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.Conv2d(x, w, y, 3, 4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.Conv2d(x, w, y, 2, 4, 3));
        Assert.Throws<ArgumentException>(() => device.Ops.Conv2d(x, w, y, 2, 3, 1));
    }
}
