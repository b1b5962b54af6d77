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
        using var labels = T.Labels(device, 3, 0, 6, 1, 2);
        using var grad = T.Poisoned(device, BigN, Out);

        float loss = device.Ops.SoftmaxCrossEntropy(logits, labels, grad, N);

        double[] z = T.D(logits);
        int[] l = labels.ToArray();
        double expected = Reference.SoftmaxCrossEntropy(z, l, N, Out);
        Assert.Equal(expected, loss, 1e-4 * (1 + Math.Abs(expected)));
        var gs = grad.ToArray();
        T.Close(T.Gradient(p => Reference.SoftmaxCrossEntropy(p, l, N, Out), z[..(N * Out)], 1e-5), gs, 1e-4, "gradLogits");
        T.Untouched(gs, N * Out, "gradLogits");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Softmax_cross_entropy_names_the_first_label_outside_the_classes_and_its_index(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var logits = T.Random(device, new Random(23), 3, Out);
        using var labels = T.Labels(device, 1, Out, -1);
        using var grad = device.Allocate(3, Out);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.SoftmaxCrossEntropy(logits, labels, grad, 3));

        Assert.Equal("labels", error.ParamName);
        Assert.Equal(Out, error.ActualValue);
        Assert.Contains($"labels[1] = {Out} is not a class index in [0, {Out})", error.Message);
        // Beyond n nothing is read: the bad labels are outside the first sample.
        Assert.True(float.IsFinite(device.Ops.SoftmaxCrossEntropy(logits, labels, grad, 1)));
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
        using var labels = T.Labels(device, 1, 2, 2, 0);
        Assert.Equal(2, device.Ops.CountCorrect(logits, labels, 3));
        Assert.Equal(3, device.Ops.CountCorrect(logits, labels, 4));
        Assert.Equal(1, device.Ops.CountCorrect(logits, labels, 1));
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Count_top_k_counts_labels_among_the_k_highest_logits_with_ties_to_the_lower_class(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var logits = T.From(device,
        [
            0, 5, 1, 3, // order 1, 3, 2, 0
            2, 2, 2, 1, // a tie: order 0, 1, 2, 3
            4, 0, 4, 9, // order 3, 0, 2, 1
        ], 3, 4);
        using var labels = T.Labels(device, 2, 2, 2);
        // Ranks of the labels: 2, 2, 2.
        Assert.Equal(0, device.Ops.CountTopK(logits, labels, 3, 1));
        Assert.Equal(0, device.Ops.CountTopK(logits, labels, 3, 2));
        Assert.Equal(3, device.Ops.CountTopK(logits, labels, 3, 3));
        Assert.Equal(3, device.Ops.CountTopK(logits, labels, 3, 4));
        Assert.Equal(3, device.Ops.CountTopK(logits, labels, 3, 10));

        using var firstMaximal = T.Labels(device, 1, 0, 3);
        Assert.Equal(3, device.Ops.CountTopK(logits, firstMaximal, 3, 1));
        Assert.Equal(device.Ops.CountCorrect(logits, firstMaximal, 3), device.Ops.CountTopK(logits, firstMaximal, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.CountTopK(logits, labels, 3, 0));
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Count_correct_and_top_k_name_the_first_label_outside_the_classes_and_its_index(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var logits = T.Random(device, new Random(24), 4, 3);
        using var labels = T.Labels(device, 0, 2, -4, 3);

        var top1 = Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.CountCorrect(logits, labels, 4));
        var top2 = Assert.Throws<ArgumentOutOfRangeException>(() => device.Ops.CountTopK(logits, labels, 4, 2));

        Assert.Contains("CountCorrect: labels[2] = -4 is not a class index in [0, 3)", top1.Message);
        Assert.Contains("CountTopK: labels[2] = -4 is not a class index in [0, 3)", top2.Message);
        Assert.Equal(-4, top1.ActualValue);
    }

    [Fact]
    public void Labels_must_cover_n_and_live_on_the_device()
    {
        var device = fixture.For(CpuLauncher.HostParallel);
        using var logits = T.Random(device, new Random(25), 4, 3);
        using var grad = device.Allocate(4, 3);
        using var few = T.Labels(device, 0, 1);
        var error = Assert.Throws<ArgumentException>(() => device.Ops.SoftmaxCrossEntropy(logits, few, grad, 3));
        Assert.Contains("labels holds 2 class indices, fewer than n = 3", error.Message);
        Assert.Throws<ArgumentException>(() => few.CopyFrom([0, 1, 2]));
    }
}
