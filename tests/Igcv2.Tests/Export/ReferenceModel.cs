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

        if (plan.Stem is { } stem) AddConvBn(stem.Conv, "stem.conv", "stem.bn", random);
        foreach (var block in plan.Blocks)
        {
            for (var l = 0; l < block.Convs.Count; l++) AddConvBn(block.Convs[l], block.Convs[l].Name, $"{block.Name}.bn{l + 1}", random);
            if (block.Shortcut is { } shortcut) AddConvBn(shortcut, shortcut.Name, $"{block.Name}.shortcut.bn", random);
        }
        var c = plan.Classifier;
        for (var l = 0; l < c.L; l++)
        {
            if (l < c.L - 1) AddConvBn(c.Convs[l], c.Convs[l].Name, $"classifier.bn{l + 1}", random);
            else Add(c.Convs[l].Name + ".weight", ParameterKind.ConvWeight, random, c.Convs[l].WeightShape, 1 / Math.Sqrt(c.Convs[l].K), 0);
        }
        if (!c.IsGrouped) Add("classifier.weight", ParameterKind.LinearWeight, random, [c.Classes, c.InChannels], 1 / Math.Sqrt(c.InChannels), 0);
        Add("classifier.bias", ParameterKind.LinearBias, random, [c.Classes], 0.1, 0);
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

    private void AddConvBn(GroupConvPlan conv, string convName, string bn, Random random)
    {
        var fanIn = conv.K * conv.KernelSize * conv.KernelSize;
        Add(convName + ".weight", ParameterKind.ConvWeight, random, conv.WeightShape, Math.Sqrt(2.0 / fanIn), 0);
        Add(bn + ".weight", ParameterKind.BatchNormGamma, random, [conv.OutChannels], 0.5, 1.0);
        Add(bn + ".bias", ParameterKind.BatchNormBeta, random, [conv.OutChannels], 0.2, 0);
        Add(bn + ".running_mean", ParameterKind.RunningMean, random, [conv.OutChannels], 0.3, 0);
        Add(bn + ".running_var", ParameterKind.RunningVariance, random, [conv.OutChannels], 0.5, 1.0);
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
