using Igcv2.Design;

namespace Igcv2.Tests.Training;

/// <summary>
/// A hand-written <see cref="IModel"/> for the trainer's tests: logits = W (gamma * x) + b over the
/// flattened image, computed on the host through <see cref="Tensor.HostSpan"/> (CPU device only). It has
/// a decayed weight, an undecayed bias and a BN-like gamma, and a running mean of the input as its
/// buffer (updated in training mode only), so that every kind the optimizer and checkpoints treat
/// differently is present.
/// </summary>
internal sealed class LinearTestModel : IModel
{
    private readonly Tensor logits;
    private readonly Tensor weight, weightGrad, bias, biasGrad, gamma, gammaGrad, runningMean;
    private float[] lastInput = [];
    private int lastCount;

    public LinearTestModel(Device device, int batchSize, int channels = 2, int size = 4, int classes = 4, int seed = 0)
    {
        Device = device;
        BatchSize = batchSize;
        Plan = NetworkPlan.Create(new NetworkSpec(channels, size, classes, EquatableArray.Create<LayerSpec>(new StemSpec(8))));
        Features = channels * size * size;
        Classes = classes;
        weight = device.Allocate(classes, Features);
        weightGrad = device.Allocate(classes, Features);
        bias = device.Allocate(classes);
        biasGrad = device.Allocate(classes);
        gamma = device.Allocate(Features);
        gammaGrad = device.Allocate(Features);
        runningMean = device.Allocate(Features);
        logits = device.Allocate(batchSize, classes);

        var random = new Random(seed);
        var scale = 1 / MathF.Sqrt(Features);
        weight.CopyFrom(Enumerable.Range(0, classes * Features).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray());
        bias.CopyFrom(new float[classes]);
        gamma.CopyFrom(Enumerable.Repeat(1f, Features).ToArray());
        runningMean.CopyFrom(new float[Features]);

        Parameters =
        [
            new Parameter("norm.weight", ParameterKind.BatchNormGamma, gamma, gammaGrad),
            new Parameter("classifier.weight", ParameterKind.LinearWeight, weight, weightGrad),
            new Parameter("classifier.bias", ParameterKind.LinearBias, bias, biasGrad),
        ];
        Buffers = [new Parameter("norm.running_mean", ParameterKind.RunningMean, runningMean, null)];
    }

    public Device Device { get; }

    public int BatchSize { get; }

    public NetworkPlan Plan { get; }

    public int Features { get; }

    public int Classes { get; }

    public IReadOnlyList<Parameter> Parameters { get; }

    public IReadOnlyList<Parameter> Buffers { get; }

    /// <summary>The trainer never asks for the input gradient; this test model does not compute it.</summary>
    public bool ComputeInputGradient
    {
        get => false;
        set
        {
            if (value) throw new NotSupportedException("LinearTestModel does not compute input gradients.");
        }
    }

    public Tensor? InputGradient => null;

    public Tensor Forward(Tensor input, bool training)
    {
        var n = input.Dim(0);
        var x = input.HostSpan;
        var w = weight.HostSpan;
        var b = bias.HostSpan;
        var g = gamma.HostSpan;
        var z = logits.HostSpan;
        for (var i = 0; i < n; i++)
        {
            for (var c = 0; c < Classes; c++)
            {
                var sum = b[c];
                for (var d = 0; d < Features; d++) sum += w[c * Features + d] * g[d] * x[i * Features + d];
                z[i * Classes + c] = sum;
            }
        }
        if (training)
        {
            lastInput = x[..(n * Features)].ToArray();
            lastCount = n;
            var mean = runningMean.HostSpan;
            for (var d = 0; d < Features; d++)
            {
                var batchMean = 0f;
                for (var i = 0; i < n; i++) batchMean += x[i * Features + d];
                mean[d] = 0.9f * mean[d] + 0.1f * (batchMean / n);
            }
        }
        return logits;
    }

    public void Backward(Tensor gradLogits)
    {
        var n = lastCount;
        var gz = gradLogits.HostSpan;
        var w = weight.HostSpan;
        var g = gamma.HostSpan;
        var gw = weightGrad.HostSpan;
        var gb = biasGrad.HostSpan;
        var gg = gammaGrad.HostSpan;
        gw.Clear();
        gb.Clear();
        gg.Clear();
        for (var i = 0; i < n; i++)
        {
            for (var c = 0; c < Classes; c++)
            {
                var dz = gz[i * Classes + c];
                gb[c] += dz;
                for (var d = 0; d < Features; d++)
                {
                    var x = lastInput[i * Features + d];
                    gw[c * Features + d] += dz * g[d] * x;
                    gg[d] += dz * w[c * Features + d] * x;
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var t in new[] { logits, weight, weightGrad, bias, biasGrad, gamma, gammaGrad, runningMean }) t.Dispose();
    }
}
