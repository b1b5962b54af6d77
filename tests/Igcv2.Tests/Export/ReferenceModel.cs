using Igcv2.Design;

namespace Igcv2.Tests.Export;

/// <summary>
/// An <see cref="IModel"/> over a plan with random parameters and random BN statistics whose inference
/// forward pass is plain double-precision C#, written from the semantics the generated models implement:
/// stem relu(bn(conv3x3)); per block h = P_l(bn_l(conv_l(h))) (ReLU after bn_1 when Nonlinear),
/// h += skip, relu; global average pool, FC. It stands in for a generated model where one is not needed
/// (or not yet available) and is a second, independent reference beside ONNX Runtime.
/// </summary>
internal sealed class ReferenceModel : IModel
{
    private const double Epsilon = 1e-5;

    private readonly Dictionary<string, Parameter> byName = new(StringComparer.Ordinal);
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
        }
        var c = plan.Classifier;
        Add("classifier.weight", ParameterKind.LinearWeight, random, [c.Classes, c.InChannels], 1 / Math.Sqrt(c.InChannels), 0);
        Add("classifier.bias", ParameterKind.LinearBias, random, [c.Classes], 0.1, 0);
        logits = device.Allocate(batchSize, c.Classes);
    }

    public Device Device { get; }

    public int BatchSize { get; }

    public NetworkPlan Plan { get; }

    public IReadOnlyList<Parameter> Parameters => parameters;

    public IReadOnlyList<Parameter> Buffers => buffers;

    /// <summary>The logits in double precision for <paramref name="images"/> [n, C, H, W].</summary>
    public double[] Infer(float[] images, int n)
    {
        var spec = Plan.Spec;
        var x = new Map(n, spec.InputChannels, spec.InputSize, images.Select(v => (double)v).ToArray());
        if (Plan.Stem is { } stem)
        {
            x = Relu(BatchNorm(Conv(x, stem.Conv, "stem.conv"), "stem.bn"));
        }
        var blockInputs = new List<Map>();
        foreach (var block in Plan.Blocks)
        {
            blockInputs.Add(x);
            var h = x;
            for (var l = 0; l < block.Convs.Count; l++)
            {
                h = BatchNorm(Conv(h, block.Convs[l], block.Convs[l].Name), $"{block.Name}.bn{l + 1}");
                if (l < block.Convs.Count - 1) h = Activate(h, block.Activations[l]);
                if (!block.Permutations[l].IsIdentity) h = Shuffle(h, block.Convs[l].Branches);
            }
            if (block.HasSkip)
            {
                var skip = blockInputs[block.SkipFrom];
                h = new Map(h.N, h.C, h.Size, h.Data.Select((v, i) => v + skip.Data[i]).ToArray());
            }
            x = Activate(h, block.FinalActivation);
        }
        return Classify(x);
    }

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
        byName.Add(name, parameter);
    }

    private double[] Values(string name) => byName[name].GetValues().Select(v => (double)v).ToArray();

    private Map Conv(Map x, GroupConvPlan conv, string name)
    {
        var w = Values(name + ".weight");
        int k = conv.KernelSize, pad = conv.Padding, stride = conv.Stride, size = conv.OutputSize;
        int perBranchOut = conv.OutPerBranch, kIn = conv.K;
        var y = new Map(x.N, conv.OutChannels, size, new double[x.N * conv.OutChannels * size * size]);
        for (var n = 0; n < x.N; n++)
        for (var o = 0; o < conv.OutChannels; o++)
        {
            var firstIn = o / perBranchOut * kIn;
            for (var oy = 0; oy < size; oy++)
            for (var ox = 0; ox < size; ox++)
            {
                double sum = 0;
                for (var c = 0; c < kIn; c++)
                for (var ky = 0; ky < k; ky++)
                for (var kx = 0; kx < k; kx++)
                {
                    int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                    if (iy < 0 || ix < 0 || iy >= x.Size || ix >= x.Size) continue;
                    sum += w[((o * kIn + c) * k + ky) * k + kx] * x[n, firstIn + c, iy, ix];
                }
                y[n, o, oy, ox] = sum;
            }
        }
        return y;
    }

    private Map BatchNorm(Map x, string name)
    {
        double[] gamma = Values(name + ".weight"), beta = Values(name + ".bias");
        double[] mean = Values(name + ".running_mean"), variance = Values(name + ".running_var");
        var y = new Map(x.N, x.C, x.Size, new double[x.Data.Length]);
        var area = x.Size * x.Size;
        for (var i = 0; i < x.Data.Length; i++)
        {
            var c = i / area % x.C;
            y.Data[i] = gamma[c] * (x.Data[i] - mean[c]) / Math.Sqrt(variance[c] + Epsilon) + beta[c];
        }
        return y;
    }

    private static Map Relu(Map x) => new(x.N, x.C, x.Size, x.Data.Select(v => Math.Max(v, 0)).ToArray());

    private static Map Activate(Map x, Activation activation) => activation switch
    {
        Activation.Relu => Relu(x),
        Activation.Relu6 => new(x.N, x.C, x.Size, x.Data.Select(v => Math.Clamp(v, 0, 6)).ToArray()),
        _ => x,
    };

    /// <summary>out[j*G + g] = in[g*(C/G) + j].</summary>
    private static Map Shuffle(Map x, int branches)
    {
        var perBranch = x.C / branches;
        var y = new Map(x.N, x.C, x.Size, new double[x.Data.Length]);
        for (var n = 0; n < x.N; n++)
        for (var g = 0; g < branches; g++)
        for (var j = 0; j < perBranch; j++)
        for (var p = 0; p < x.Size * x.Size; p++)
        {
            y[n, j * branches + g, p / x.Size, p % x.Size] = x[n, g * perBranch + j, p / x.Size, p % x.Size];
        }
        return y;
    }

    private double[] Classify(Map x)
    {
        var c = Plan.Classifier;
        double[] w = Values("classifier.weight"), b = Values("classifier.bias");
        var result = new double[x.N * c.Classes];
        var area = x.Size * x.Size;
        for (var n = 0; n < x.N; n++)
        {
            var pooled = new double[x.C];
            for (var ch = 0; ch < x.C; ch++)
            {
                for (var p = 0; p < area; p++) pooled[ch] += x.Data[(n * x.C + ch) * area + p];
                pooled[ch] /= area;
            }
            for (var o = 0; o < c.Classes; o++)
            {
                var sum = b[o];
                for (var ch = 0; ch < x.C; ch++) sum += w[o * x.C + ch] * pooled[ch];
                result[n * c.Classes + o] = sum;
            }
        }
        return result;
    }

    /// <summary>An NCHW feature map with square spatial size.</summary>
    private sealed record Map(int N, int C, int Size, double[] Data)
    {
        public double this[int n, int c, int y, int x]
        {
            get => Data[((n * C + c) * Size + y) * Size + x];
            set => Data[((n * C + c) * Size + y) * Size + x] = value;
        }
    }
}
