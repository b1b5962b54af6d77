using Igcv2.Design;

namespace Igcv2.Tests.Models;

/// <summary>Whole generated networks on the CPU accelerator against the double-precision reference.</summary>
public sealed class GeneratedModelTests : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);

    public static TheoryData<string> Networks => new() { nameof(TinyWideningNet), nameof(TinyGroupedNet), nameof(TinyStemlessNet), nameof(TinyIgcv3Net), nameof(TinyPointwiseNet), nameof(TinyHeadNet), nameof(TinyProjectionNet), nameof(TinyWidenFirstNet),
        nameof(TinyStemlessProjectionNet), nameof(TinyNarrowingNet), nameof(TinyMixedProjectionNet) };

    public void Dispose() => device.Dispose();

    private IModel Create(string name, int batchSize, int seed = 7) => name switch
    {
        nameof(TinyWideningNet) => new TinyWideningNet(device, batchSize, seed),
        nameof(TinyGroupedNet) => new TinyGroupedNet(device, batchSize, seed),
        nameof(TinyStemlessNet) => new TinyStemlessNet(device, batchSize, seed),
        nameof(TinyIgcv3Net) => new TinyIgcv3Net(device, batchSize, seed),
        nameof(TinyPointwiseNet) => new TinyPointwiseNet(device, batchSize, seed),
        nameof(TinyHeadNet) => new TinyHeadNet(device, batchSize, seed),
        nameof(TinyProjectionNet) => new TinyProjectionNet(device, batchSize, seed),
        nameof(TinyWidenFirstNet) => new TinyWidenFirstNet(device, batchSize, seed),
        nameof(TinyStemlessProjectionNet) => new TinyStemlessProjectionNet(device, batchSize, seed),
        nameof(TinyNarrowingNet) => new TinyNarrowingNet(device, batchSize, seed),
        nameof(TinyMixedProjectionNet) => new TinyMixedProjectionNet(device, batchSize, seed),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Forward_in_training_and_inference_mode_matches_the_reference(string name)
    {
        using var model = Create(name, batchSize: 4);
        RandomizeBatchNorm(model, seed: 3);
        var spec = model.Plan.Spec;
        foreach (var n in new[] { 4, 3 })
        {
            foreach (var training in new[] { false, true })
            {
                var values = Values(model);
                var input = RandomValues(n * spec.InputChannels * spec.InputSize * spec.InputSize, seed: n);
                using var x = device.Allocate(n, spec.InputChannels, spec.InputSize, spec.InputSize);
                x.CopyFrom(input);
                var logits = model.Forward(x, training).ToArray();
                var expected = new ReferenceNetwork(model.Plan, values).Forward(input, n, training);
                Assert.Equal(expected.Length, logits.Length);
                for (var i = 0; i < expected.Length; i++)
                {
                    Assert.True(Math.Abs(expected[i] - logits[i]) <= 1e-4 * (1 + Math.Abs(expected[i])),
                        $"{name} n={n} training={training}: logit {i} is {logits[i]}, reference {expected[i]}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Backward_gives_every_parameter_and_the_input_the_gradient_of_the_reference(string name)
    {
        const int n = 3;
        using var model = Create(name, batchSize: n);
        RandomizeBatchNorm(model, seed: 5);
        model.ComputeInputGradient = true;
        var spec = model.Plan.Spec;
        var input = RandomValues(n * spec.InputChannels * spec.InputSize * spec.InputSize, seed: 11);
        var weights = RandomValues(n * spec.Classes, seed: 13); // loss = sum(weights * logits)
        using var x = device.Allocate(n, spec.InputChannels, spec.InputSize, spec.InputSize);
        using var gradLogits = device.Allocate(n, spec.Classes);
        x.CopyFrom(input);
        gradLogits.CopyFrom(weights);
        model.Forward(x, training: true);
        model.Backward(gradLogits);

        var values = Values(model);
        double Loss(IReadOnlyDictionary<string, float[]> v, float[] image) =>
            new ReferenceNetwork(model.Plan, v).Forward(image, n, training: true).Select((l, i) => l * weights[i]).Sum();

        var random = new Random(17);
        foreach (var parameter in model.Parameters)
        {
            var analytic = parameter.GetGradient();
            var entries = parameter.Length <= 8 ? Enumerable.Range(0, (int)parameter.Length) : Enumerable.Range(0, 8).Select(_ => random.Next((int)parameter.Length));
            foreach (var i in entries)
            {
                var numeric = CentralDifference(values[parameter.Name], i, () => Loss(values, input));
                AssertClose(numeric, analytic[i], $"{name} {parameter.Name}[{i}]");
            }
        }

        var inputGradient = model.InputGradient!.ToArray();
        foreach (var i in Enumerable.Range(0, 10).Select(_ => random.Next(input.Length)))
        {
            var numeric = CentralDifference(input, i, () => Loss(values, input));
            AssertClose(numeric, inputGradient[i], $"{name} input[{i}]");
        }
    }

    [Fact]
    public void Recomputed_convolution_outputs_give_the_gradients_of_kept_ones_bit_for_bit()
    {
        // The same network twice, one recomputing W_1's and W_2's outputs in backward, one keeping them: the same
        // ops on the same values, so every gradient, BN statistic and output agrees exactly, over two steps.
        const int n = 4;
        using var recomputed = new TinyWideningNet(device, n, seed: 3);
        using var kept = new TinyWideningKeptNet(device, n, seed: 3);
        Assert.True(TinyWideningNet.Plan.Spec.Recompute);
        Assert.False(TinyWideningKeptNet.Plan.Spec.Recompute);
        using var x = device.Allocate(n, 2, 6, 6);
        using var gradLogits = device.Allocate(n, 3);
        for (var step = 0; step < 2; step++)
        {
            x.CopyFrom(RandomValues(n * 2 * 6 * 6, seed: 20 + step));
            gradLogits.CopyFrom(RandomValues(n * 3, seed: 30 + step));
            foreach (var model in new IModel[] { recomputed, kept })
            {
                model.Forward(x, training: true);
                model.Backward(gradLogits);
            }
            Assert.Equal(kept.Parameters.Select(p => p.Name), recomputed.Parameters.Select(p => p.Name));
            foreach (var (a, b) in recomputed.Parameters.Zip(kept.Parameters))
            {
                Assert.Equal(b.GetGradient(), a.GetGradient());
                // A step of plain SGD on both, so the second step runs on weights that moved.
                var moved = a.GetValues().Zip(a.GetGradient(), (v, g) => v - 0.1f * g).ToArray();
                a.SetValues(moved);
                b.SetValues(moved);
            }
            foreach (var (a, b) in recomputed.Buffers.Zip(kept.Buffers)) Assert.Equal(b.GetValues(), a.GetValues());
        }
    }

    [Fact]
    public void Parameters_are_named_by_layer_and_add_up_to_ParameterCount()
    {
        using var model = new TinyWideningNet(device, 2);
        var names = model.Parameters.Select(p => p.Name).ToList();
        Assert.Equal("stem.conv.weight", names[0]);
        Assert.Contains("stage2.block1.conv3.weight", names);
        Assert.Equal([16, 4, 1, 1], model.Parameters.Single(p => p.Name == "stage2.block1.conv3.weight").Shape);
        Assert.Equal("classifier.bias", names[^1]);
        Assert.Equal(TinyWideningNet.ParameterCount, model.Parameters.Sum(p => p.Length));
        Assert.Contains(model.Buffers, b => b.Name == "stage1.block2.bn1.running_var");
        Assert.All(model.Buffers, b => Assert.False(b.IsTrainable));
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_outputs()
    {
        using var a = new TinyGroupedNet(device, 2, seed: 1);
        using var b = new TinyGroupedNet(device, 2, seed: 1);
        using var c = new TinyGroupedNet(device, 2, seed: 2);
        Assert.Equal(a.Parameters[0].GetValues(), b.Parameters[0].GetValues());
        Assert.NotEqual(a.Parameters[0].GetValues(), c.Parameters[0].GetValues());
        using var x = device.Allocate(2, 3, 5, 5);
        x.CopyFrom(RandomValues(2 * 3 * 5 * 5, 1));
        Assert.Equal(a.Forward(x, true).ToArray(), b.Forward(x, true).ToArray());
    }

    [Fact]
    public void Misuse_gets_exceptions_that_say_what_was_expected()
    {
        var model = new TinyWideningNet(device, batchSize: 2);
        using var wrongShape = device.Allocate(2, 3, 6, 6);
        var shape = Assert.Throws<ArgumentException>(() => model.Forward(wrongShape, true));
        Assert.Contains("expects input [n, 2, 6, 6]", shape.Message);

        using var tooMany = device.Allocate(3, 2, 6, 6);
        Assert.Contains("at most 2", Assert.Throws<ArgumentException>(() => model.Forward(tooMany, true)).Message);

        using var gradient = device.Allocate(2, 3);
        Assert.Contains("preceding Forward", Assert.Throws<InvalidOperationException>(() => model.Backward(gradient)).Message);

        using var x = device.Allocate(2, 2, 6, 6);
        x.CopyFrom(new float[x.Length]);
        model.Forward(x, training: false);
        Assert.Throws<InvalidOperationException>(() => model.Backward(gradient));

        model.Forward(x, training: true);
        using var wrongGradient = device.Allocate(2, 4);
        Assert.Contains("gradLogits [2, 3]", Assert.Throws<ArgumentException>(() => model.Backward(wrongGradient)).Message);

        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Forward(x, true));
    }

    private static void AssertClose(double numeric, float analytic, string what) =>
        Assert.True(Math.Abs(numeric - analytic) <= 2e-3 + 2e-3 * Math.Abs(numeric), $"{what}: analytic {analytic}, numeric {numeric}");

    /// <summary>
    /// (f(v + h) - f(v - h)) / 2h on entry i of <paramref name="values"/>, in double through the reference,
    /// dividing by the step float rounding actually applied. The step is small because tiny test batches
    /// give some BN channels a small variance, and the loss is strongly curved there: at h = 1e-2 a
    /// correct gradient can look 30% off, at 1e-4 the estimate has converged.
    /// </summary>
    private static double CentralDifference(float[] values, int i, Func<double> f)
    {
        var original = values[i];
        const float h = 1e-4f;
        values[i] = original + h;
        var up = (double)values[i] - original;
        var plus = f();
        values[i] = original - h;
        var down = original - (double)values[i];
        var minus = f();
        values[i] = original;
        return (plus - minus) / (up + down);
    }

    private static Dictionary<string, float[]> Values(IModel model) =>
        model.Parameters.Concat(model.Buffers).ToDictionary(p => p.Name, p => p.GetValues());

    /// <summary>Gamma, beta and running statistics away from 1/0, so that a mix-up of any of them shows.</summary>
    internal static void RandomizeBatchNorm(IModel model, int seed)
    {
        var random = new Random(seed);
        foreach (var p in model.Parameters.Concat(model.Buffers))
        {
            float Next() => p.Kind switch
            {
                ParameterKind.BatchNormGamma => 0.5f + (float)random.NextDouble(),
                ParameterKind.BatchNormBeta or ParameterKind.RunningMean => (float)random.NextDouble() - 0.5f,
                ParameterKind.RunningVariance => 0.5f + (float)random.NextDouble(),
                _ => float.NaN,
            };
            if (p.Kind is ParameterKind.ConvWeight or ParameterKind.LinearWeight or ParameterKind.LinearBias) continue;
            p.SetValues(Enumerable.Range(0, (int)p.Length).Select(_ => Next()).ToArray());
        }
    }

    internal static float[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
