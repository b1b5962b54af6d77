using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

[Collection(KernelCollection.Name)]
public sealed class ElementwiseTests(KernelFixture fixture)
{
    public static TheoryData<CpuLauncher> Launchers() => new(T.Launchers);

    // 3 x 5 x 7 x 11 = 1155 values per 3 samples: vector bodies and scalar tails both run.
    private static readonly int[] Shape = [3, 5, 7, 11];
    private const int N = 2;
    private const int Used = N * 5 * 7 * 11;

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Relu_forward_and_backward(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var x = T.Random(device, new Random(10), Shape);
        using var y = T.Poisoned(device, Shape);
        device.Ops.Relu(x, y, N);
        var xs = T.D(x);
        var ys = y.ToArray();
        T.Close(xs.Select(v => Math.Max(v, 0)).ToArray(), ys, 0, "y", Used);
        T.Untouched(ys, Used, "y");

        using var gy = T.Random(device, new Random(11), Shape);
        using var gx = T.Poisoned(device, Shape);
        device.Ops.ReluBackward(y, gy, gx, N);
        var gys = T.D(gy);
        var expected = gys.Select((g, i) => ys[i] > 0 ? g : 0).ToArray();
        var gxs = gx.ToArray();
        T.Close(expected, gxs, 0, "gx", Used);
        T.Untouched(gxs, Used, "gx");

        // The finite difference of relu at the sampled points (none is within h of the kink).
        var fd = T.Gradient(p => T.Weighted(p.Select(v => Math.Max(v, 0)).ToArray(), gys, Used), xs[..Used], 1e-6);
        T.Close(fd, gxs, 1e-4, "gx vs finite differences");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Relu6_clamps_to_0_6_and_passes_gradients_inside_only(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        var random = new Random(14);
        var values = Enumerable.Range(0, Shape.Aggregate(1, (a, d) => a * d)).Select(_ => (float)(random.NextDouble() * 16 - 8)).ToArray();
        using var x = device.Allocate(Shape);
        x.CopyFrom(values);
        using var y = T.Poisoned(device, Shape);
        device.Ops.Relu6(x, y, N);
        var ys = y.ToArray();
        T.Close(values.Select(v => (double)Math.Clamp(v, 0f, 6f)).ToArray(), ys, 0, "y", Used);
        T.Untouched(ys, Used, "y");
        Assert.Contains(ys[..Used], v => v == 6f);

        using var gy = T.Random(device, new Random(15), Shape);
        using var gx = T.Poisoned(device, Shape);
        device.Ops.Relu6Backward(y, gy, gx, N);
        var gys = T.D(gy);
        var gxs = gx.ToArray();
        T.Close(gys.Select((g, i) => ys[i] > 0 && ys[i] < 6 ? g : 0).ToArray(), gxs, 0, "gx", Used);
        T.Untouched(gxs, Used, "gx");

        var xs = values.Select(v => (double)v).ToArray();
        var fd = T.Gradient(p => T.Weighted(p.Select(v => Math.Clamp(v, 0, 6)).ToArray(), gys, Used), xs[..Used], 1e-6);
        T.Close(fd, gxs, 1e-4, "gx vs finite differences");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void A_NaN_stays_a_NaN_through_the_activations_and_its_gradient_is_zero(CpuLauncher launcher)
    {
        // Every path applies one activation math (Kernels.Activations): a diverged value must not turn into a clean 0
        // on one launcher and stay NaN on the other. NaNs sit in the vector bodies and in the scalar tails.
        var device = fixture.For(launcher);
        var values = new float[Shape.Aggregate(1, (a, d) => a * d)];
        for (int i = 0; i < values.Length; i++) values[i] = i % 3 == 0 ? float.NaN : i % 3 == 1 ? -2f : 7f;
        using var x = device.Allocate(Shape);
        x.CopyFrom(values);
        using var gy = device.Allocate(Shape);
        gy.CopyFrom(Enumerable.Repeat(1f, values.Length).ToArray());
        foreach (var (forward, backward, top) in new (Action<Tensor, Tensor, int>, Action<Tensor, Tensor, Tensor, int>, float)[]
        {
            (device.Ops.Relu, device.Ops.ReluBackward, 7f),
            (device.Ops.Relu6, device.Ops.Relu6Backward, 6f),
        })
        {
            using var y = T.Poisoned(device, Shape);
            forward(x, y, N);
            var ys = y.ToArray();
            using var gx = T.Poisoned(device, Shape);
            backward(y, gy, gx, N);
            var gxs = gx.ToArray();
            for (int i = 0; i < Used; i++)
            {
                float expected = i % 3 == 0 ? float.NaN : i % 3 == 1 ? 0f : top;
                Assert.True(expected.Equals(ys[i]), $"y[{i}] = {ys[i]}, expected {expected}");
                float gradient = i % 3 == 2 && top == 7f ? 1f : 0f;
                Assert.True(gradient.Equals(gxs[i]), $"gx[{i}] = {gxs[i]}, expected {gradient}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Relu_in_place_and_backward_in_place(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var x = T.Random(device, new Random(12), Shape);
        var before = T.D(x);
        device.Ops.Relu(x, x, Shape[0]);
        T.Close(before.Select(v => Math.Max(v, 0)).ToArray(), x.ToArray(), 0, "x");

        using var g = T.Random(device, new Random(13), Shape);
        var gBefore = T.D(g);
        device.Ops.ReluBackward(x, g, g, Shape[0]);
        T.Close(gBefore.Select((v, i) => before[i] > 0 ? v : 0).ToArray(), g.ToArray(), 0, "g");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Add_overwrites_and_may_alias(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var a = T.Random(device, new Random(14), Shape);
        using var b = T.Random(device, new Random(15), Shape);
        using var y = T.Poisoned(device, Shape);
        double[] av = T.D(a), bv = T.D(b);
        var sum = av.Select((v, i) => v + bv[i]).ToArray();

        device.Ops.Add(a, b, y, N);
        var ys = y.ToArray();
        T.Close(sum, ys, 1e-7, "y", Used);
        T.Untouched(ys, Used, "y");

        device.Ops.Add(a, b, a, Shape[0]);
        T.Close(sum, a.ToArray(), 1e-7, "a += b");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Global_average_pool_forward_and_backward(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var x = T.Random(device, new Random(16), Shape);
        using var y = T.Poisoned(device, Shape[0], Shape[1]);
        device.Ops.GlobalAveragePool(x, y, N);
        int plane = Shape[2] * Shape[3], planes = N * Shape[1];
        var ys = y.ToArray();
        T.Close(Reference.GlobalAveragePool(T.D(x), planes, plane), ys, 1e-6, "y");
        T.Untouched(ys, planes, "y");

        using var gy = T.Random(device, new Random(17), Shape[0], Shape[1]);
        using var gx = T.Poisoned(device, Shape);
        device.Ops.GlobalAveragePoolBackward(gy, gx, N);
        var r = T.D(gy);
        var fd = T.Gradient(p => T.Weighted(Reference.GlobalAveragePool(p, planes, plane), r, planes), T.D(x)[..Used]);
        var gxs = gx.ToArray();
        T.Close(fd, gxs, 1e-5, "gx");
        T.Untouched(gxs, Used, "gx");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Fill_and_copy(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var t = T.Poisoned(device, 7, 13);
        device.Ops.Fill(t, 2.5f);
        Assert.All(t.ToArray(), v => Assert.Equal(2.5f, v));

        using var source = T.Random(device, new Random(18), 7, 13);
        using var flat = T.Poisoned(device, 91);
        device.Ops.Copy(source, flat);
        Assert.Equal(source.ToArray(), flat.ToArray());

        using var wrong = device.Allocate(90);
        var error = Assert.Throws<ArgumentException>(() => device.Ops.Copy(source, wrong));
        Assert.Contains("[90]", error.Message);
        Assert.Contains("[7, 13]", error.Message);
    }

    [Fact]
    public void Elementwise_shape_mismatch_is_reported()
    {
        var device = fixture.Host;
        using var a = device.Allocate(2, 3, 4, 4);
        using var b = device.Allocate(2, 3, 4, 5);
        var error = Assert.Throws<ArgumentException>(() => device.Ops.Add(a, b, a, 2));
        Assert.Contains("[N, 3, 4, 4]", error.Message);
        Assert.Contains("[2, 3, 4, 5]", error.Message);
    }

    [Fact]
    public void Tensors_from_another_device_are_rejected()
    {
        using var a = fixture.Host.Allocate(1, 4);
        using var b = fixture.Accelerator.Allocate(1, 4);
        Assert.Throws<ArgumentException>(() => fixture.Host.Ops.Relu(a, b, 1));
    }
}
