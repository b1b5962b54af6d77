using Igcv2.Samples;

namespace Igcv2.Tests.Models;

/// <summary>
/// The generated fused inference pass (BN folded, P_l in the write index, skip and activation in the store, per
/// row band) against the unfused steps, its oracle, on random weights, random BN statistics and random input.
/// </summary>
public sealed class FusedInferenceTests : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);

    public void Dispose() => device.Dispose();

    public static TheoryData<string> Networks => new()
    {
        nameof(TinyWideningNet), nameof(TinyGroupedNet), nameof(TinyStemlessNet), nameof(TinyPointwiseNet), nameof(TinyHeadNet),
        nameof(TinyProjectionNet), nameof(TinyWidenFirstNet), nameof(TinyStemlessProjectionNet), nameof(TinyNarrowingNet),
        nameof(Igcv2C64), nameof(Igcv2StarC416FirstStageL), nameof(XceptionC35), nameof(IgcV1C48), nameof(Igcv2.GpuBench.DigitsNet),
    };

    private IModel Create(string name, int batchSize) => name switch
    {
        nameof(TinyWideningNet) => new TinyWideningNet(device, batchSize, 3),
        nameof(TinyGroupedNet) => new TinyGroupedNet(device, batchSize, 3),
        nameof(TinyStemlessNet) => new TinyStemlessNet(device, batchSize, 3),
        nameof(TinyPointwiseNet) => new TinyPointwiseNet(device, batchSize, 3),
        nameof(TinyHeadNet) => new TinyHeadNet(device, batchSize, 3),
        nameof(TinyProjectionNet) => new TinyProjectionNet(device, batchSize, 3),
        nameof(TinyWidenFirstNet) => new TinyWidenFirstNet(device, batchSize, 3),
        nameof(TinyStemlessProjectionNet) => new TinyStemlessProjectionNet(device, batchSize, 3),
        nameof(TinyNarrowingNet) => new TinyNarrowingNet(device, batchSize, 3),
        nameof(Igcv2C64) => new Igcv2C64(device, batchSize, 3),
        nameof(Igcv2StarC416FirstStageL) => new Igcv2StarC416FirstStageL(device, batchSize, 3),
        nameof(XceptionC35) => new XceptionC35(device, batchSize, 3),
        nameof(IgcV1C48) => new IgcV1C48(device, batchSize, 3),
        nameof(Igcv2.GpuBench.DigitsNet) => new Igcv2.GpuBench.DigitsNet(device, batchSize, 3),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Fused_inference_matches_the_unfused_steps_at_batch_1_and_a_full_batch(string name)
    {
        using var model = Create(name, batchSize: 3);
        GeneratedModelTests.RandomizeBatchNorm(model, seed: 8);
        Assert.True(Fused(model));
        foreach (var n in new[] { 1, 3 })
        {
            using var x = Input(model, n, seed: n);
            AssertSame(model, x, $"{name} n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Fused_inference_image_by_image_matches_the_unfused_steps(string name)
    {
        // A batch with ImagesPerCore images for every core (and one more) runs each image through all the blocks on one core.
        var n = Igcv2.Kernels.Fused.FoldedBlock.ImagesPerCore * Environment.ProcessorCount + 1;
        using var model = Create(name, batchSize: n);
        GeneratedModelTests.RandomizeBatchNorm(model, seed: 11);
        using var x = Input(model, n, seed: 12);
        AssertSame(model, x, $"{name} n={n}");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Fused_inference_gives_an_image_the_same_bits_at_every_batch_size(string name)
    {
        // Image by image (a full batch), block by block (3 images, and 1): the bands differ, the images' bits must not.
        var n = Igcv2.Kernels.Fused.FoldedBlock.ImagesPerCore * Environment.ProcessorCount + 1;
        using var model = Create(name, batchSize: n);
        GeneratedModelTests.RandomizeBatchNorm(model, seed: 13);
        using var x = Input(model, n, seed: 14);
        var classes = model.Plan.Spec.Classes;
        var all = model.Forward(x, training: false).ToArray();
        foreach (var m in new[] { 3, 1 })
        {
            using var first = device.Allocate(m, x.Dim(1), x.Dim(2), x.Dim(3));
            first.CopyFrom(x.ToArray().AsSpan(0, (int)first.Length).ToArray());
            Assert.Equal(all.AsSpan(0, m * classes).ToArray(), model.Forward(first, training: false).ToArray().AsSpan(0, m * classes).ToArray());
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)] // image by image: ImagesPerCore images a core, and one more
    public void Fused_inference_refolds_after_the_weights_and_the_running_statistics_change(int batch)
    {
        var n = batch > 0 ? batch : Igcv2.Kernels.Fused.FoldedBlock.ImagesPerCore * Environment.ProcessorCount + 1;
        using var model = new TinyProjectionNet(device, batchSize: n, seed: 1);
        using var x = Input(model, n, seed: 4);
        AssertSame(model, x, "initial");

        // A training pass moves the running statistics; new weights arrive as a user or LoadWeights writes them.
        model.Forward(x, training: true);
        AssertSame(model, x, "after a training pass");
        var conv = model.Parameters.First(p => p.Kind == ParameterKind.ConvWeight);
        conv.SetValues(GeneratedModelTests.RandomValues((int)conv.Length, seed: 9));
        GeneratedModelTests.RandomizeBatchNorm(model, seed: 10);
        AssertSame(model, x, "after new weights and statistics");
    }

    [Fact]
    public void Fused_inference_is_on_by_default_on_the_cpu_and_off_for_networks_it_cannot_fuse()
    {
        using var fused = new TinyGroupedNet(device, batchSize: 1);
        Assert.True(fused.FusedInference);
        fused.FusedInference = false;
        Assert.False(fused.FusedInference);
        using var igcv3 = new TinyIgcv3Net(device, batchSize: 1);
        igcv3.FusedInference = true;
        Assert.False(igcv3.FusedInference);
        using var mixed = new TinyMixedProjectionNet(device, batchSize: 1);
        Assert.False(mixed.FusedInference);
    }

    /// <summary>Fused and unfused logits agree within 1e-5 of the largest logit (BN folding only reorders float rounding).</summary>
    private void AssertSame(IModel model, Tensor x, string what)
    {
        SetFused(model, false);
        var unfused = model.Forward(x, training: false).ToArray();
        // The two passes share their block outputs: a pass on other input first, so an output the fused pass failed
        // to write would hold that input's values, not the unfused pass's.
        using (var other = Input(model, x.Dim(0), seed: 99)) model.Forward(other, training: false);
        SetFused(model, true);
        var fused = model.Forward(x, training: false).ToArray();
        var scale = Math.Max(1.0, unfused.Max(v => Math.Abs((double)v)));
        var worst = unfused.Zip(fused, (u, f) => Math.Abs((double)u - f)).Max() / scale;
        Assert.True(worst <= 1e-5, $"{what}: fused logits differ from the unfused ones by {worst:E2} of the largest");
        Assert.All(fused, v => Assert.True(float.IsFinite(v)));
    }

    private Tensor Input(IModel model, int n, int seed)
    {
        var spec = model.Plan.Spec;
        var x = device.Allocate(n, spec.InputChannels, spec.InputSize, spec.InputSize);
        x.CopyFrom(GeneratedModelTests.RandomValues((int)x.Length, seed));
        return x;
    }

    private static bool Fused(IModel model) => (bool)model.GetType().GetProperty("FusedInference")!.GetValue(model)!;

    private static void SetFused(IModel model, bool on) => model.GetType().GetProperty("FusedInference")!.SetValue(model, on);
}
