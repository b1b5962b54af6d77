using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

[Collection(KernelCollection.Name)]
public sealed class ClassifierTests(KernelFixture fixture)
{
    public static TheoryData<CpuLauncher> Launchers() => new(T.Launchers);

    private const int BigN = 5, N = 3, In = 19, Out = 7;

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Linear_forward_matches_reference(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        var random = new Random(20);
        using var x = T.Random(device, random, BigN, In);
        using var w = T.Random(device, random, Out, In);
        using var b = T.Random(device, random, Out);
        using var y = T.Poisoned(device, BigN, Out);

        device.Ops.Linear(x, w, b, y, N);

        var ys = y.ToArray();
        T.Close(Reference.Linear(T.D(x), T.D(w), T.D(b), N, In, Out), ys, 1e-5, "y");
        T.Untouched(ys, N * Out, "y");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Linear_backward_matches_finite_differences(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        var random = new Random(21);
        using var x = T.Random(device, random, BigN, In);
        using var w = T.Random(device, random, Out, In);
        using var b = T.Random(device, random, Out);
        using var gy = T.Random(device, random, BigN, Out);
        using var gx = T.Poisoned(device, BigN, In);
        using var gw = T.Poisoned(device, Out, In);
        using var gb = T.Poisoned(device, Out);

        device.Ops.LinearBackward(x, w, gy, gx, gw, gb, N);

        double[] xs = T.D(x)[..(N * In)], ws = T.D(w), bs = T.D(b), r = T.D(gy);
        double Loss(double[] xv, double[] wv, double[] bv) => T.Weighted(Reference.Linear(xv, wv, bv, N, In, Out), r, N * Out);
        var gxs = gx.ToArray();
        T.Close(T.Gradient(p => Loss(p, ws, bs), xs), gxs, 1e-4, "gx");
        T.Untouched(gxs, N * In, "gx");
        T.Close(T.Gradient(p => Loss(xs, p, bs), ws), gw.ToArray(), 1e-4, "gw");
        T.Close(T.Gradient(p => Loss(xs, ws, p), bs), gb.ToArray(), 1e-4, "gb");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Softmax_cross_entropy_loss_and_gradient(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        var random = new Random(22);
        using var logits = T.Random(device, random, BigN, Out);
        // Large logits: the kernel must subtract the row maximum.
        logits.CopyFrom(Array.ConvertAll(logits.ToArray(), v => v * 30f));
        using var labels = T.From(device, [3, 0, 6, 1, 2], BigN);
        using var grad = T.Poisoned(device, BigN, Out);

        float loss = device.Ops.SoftmaxCrossEntropy(logits, labels, grad, N);

        double[] z = T.D(logits), l = T.D(labels);
        double expected = Reference.SoftmaxCrossEntropy(z, l, N, Out);
        Assert.Equal(expected, loss, 1e-4 * (1 + Math.Abs(expected)));
        var gs = grad.ToArray();
        T.Close(T.Gradient(p => Reference.SoftmaxCrossEntropy(p, l, N, Out), z[..(N * Out)], 1e-5), gs, 1e-4, "gradLogits");
        T.Untouched(gs, N * Out, "gradLogits");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Softmax_cross_entropy_rejects_a_label_outside_the_classes(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var logits = T.Random(device, new Random(23), 2, Out);
        using var labels = T.From(device, [1, Out], 2);
        using var grad = device.Allocate(2, Out);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.SoftmaxCrossEntropy(logits, labels, grad, 2));
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Count_correct_counts_top1_hits_in_the_first_n(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var logits = T.From(device,
        [
            0, 5, 1, // predicts 1
            9, 2, 3, // predicts 0
            1, 1, 4, // predicts 2
            7, 0, 0, // predicts 0, beyond n
        ], 4, 3);
        using var labels = T.From(device, [1, 2, 2, 0], 4);
        Assert.Equal(2, device.Ops.CountCorrect(logits, labels, 3));
        Assert.Equal(3, device.Ops.CountCorrect(logits, labels, 4));
        Assert.Equal(1, device.Ops.CountCorrect(logits, labels, 1));
    }
}
