using Igcv2.Design;

namespace Igcv2.Tests.Export;

/// <summary>
/// An <see cref="IModel"/> over a plan with random parameters and random BN statistics whose inference pass
/// is the model tests' double-precision reference (<see cref="Models.ReferenceNetwork"/>). It stands in for a
/// generated model where none is needed, and is an independent reference beside ONNX Runtime.
/// </summary>
internal sealed class ReferenceModel : IModel
{
    private readonly List<Parameter> parameters = [];
    private readonly List<Parameter> buffers = [];
    private readonly Tensor logits;

    public ReferenceModel(Device device, NetworkPlan plan, int batchSize, int seed)
    {
        Device = device;
        Plan = plan;
        BatchSize = batchSize;
        var random = new Random(seed);

        // Every tensor the lowered steps name, in their order.
        var lowered = NetworkSteps.Lower(plan);
        foreach (var step in lowered.Steps)
        {
            var channels = step.Output >= 0 ? lowered.Value(step.Output).Channels : 0;
            switch (step.Kind)
            {
                case StepKind.Convolution:
                    var conv = step.Conv!;
                    var fanIn = conv.K * conv.KernelSize * conv.KernelSize;
                    Add(step.Prefix + ".weight", ParameterKind.ConvWeight, random, conv.WeightShape, lowered.Steps.Any(s => s.Kind == StepKind.Bias && s.Input == step.Output) ? 1 / Math.Sqrt(conv.K) : Math.Sqrt(2.0 / fanIn), 0);
                    break;
                case StepKind.BatchNorm:
                    Add(step.Prefix + ".weight", ParameterKind.BatchNormGamma, random, [channels], 0.5, 1.0);
                    Add(step.Prefix + ".bias", ParameterKind.BatchNormBeta, random, [channels], 0.2, 0);
                    Add(step.Prefix + ".running_mean", ParameterKind.RunningMean, random, [channels], 0.3, 0);
                    Add(step.Prefix + ".running_var", ParameterKind.RunningVariance, random, [channels], 0.5, 1.0);
                    break;
                case StepKind.Linear:
                    var inChannels = lowered.Value(step.Input).Channels;
                    Add(step.Prefix + ".weight", ParameterKind.LinearWeight, random, [channels, inChannels], 1 / Math.Sqrt(inChannels), 0);
                    Add(step.Prefix + ".bias", ParameterKind.LinearBias, random, [channels], 0.1, 0);
                    break;
                case StepKind.Bias:
                    Add(step.Prefix + ".bias", ParameterKind.LinearBias, random, [channels], 0.1, 0);
                    break;
            }
        }
        var c = plan.Classifier;
        logits = device.Allocate(batchSize, c.Classes);
    }

    public Device Device { get; }

    public int BatchSize { get; }

    public NetworkPlan Plan { get; }

    public IReadOnlyList<Parameter> Parameters => parameters;

    public IReadOnlyList<Parameter> Buffers => buffers;

    /// <summary>
    /// The logits in double precision for <paramref name="images"/> [n, C, H, W]: the whole-network reference
    /// of the model tests (<see cref="Models.ReferenceNetwork"/>) in inference mode, over these parameters.
    /// </summary>
    public double[] Infer(float[] images, int n) =>
        new Models.ReferenceNetwork(Plan, parameters.Concat(buffers).ToDictionary(p => p.Name, p => p.GetValues())).Forward(images, n, training: false);

    public Tensor Forward(Tensor input, bool training)
    {
        if (training) throw new NotSupportedException("The reference model only infers.");
        var n = input.Dim(0);
        var result = Infer(input.ToArray(), n).Select(v => (float)v).ToArray();
        var padded = new float[logits.Length];
        result.CopyTo(padded, 0);
        logits.CopyFrom(padded);
        return logits;
    }

    public void Backward(Tensor gradLogits) => throw new NotSupportedException("The reference model only infers.");

    public bool ComputeInputGradient { get; set; }

    public Tensor? InputGradient => null;

    public void Dispose()
    {
        foreach (var p in parameters.Concat(buffers)) p.Value.Dispose();
        logits.Dispose();
    }

    /// <summary>A tensor of uniform values in [centre - spread, centre + spread].</summary>
    private void Add(string name, ParameterKind kind, Random random, int[] shape, double spread, double centre)
    {
        var value = Device.Allocate(shape);
        var values = new float[value.Length];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(centre + spread * (2 * random.NextDouble() - 1));
        value.CopyFrom(values);
        var trainable = kind is not (ParameterKind.RunningMean or ParameterKind.RunningVariance);
        var parameter = new Parameter(name, kind, value, gradient: null);
        (trainable ? parameters : buffers).Add(parameter);
    }
}
