using Igcv2.Design;

namespace Igcv2.Tests.Models;

/// <summary>
/// A plain double-precision forward pass that walks a <see cref="NetworkPlan"/> with loops over every
/// index, independent of the generated code and the kernels: the oracle for whole-network tests.
/// </summary>
internal sealed class ReferenceNetwork(NetworkPlan plan, IReadOnlyDictionary<string, float[]> values)
{
    /// <summary>Runs the lowered steps (<see cref="NetworkSteps"/>) one by one; returns the logits [n, classes].</summary>
    public double[] Forward(float[] input, int n, bool training)
    {
        var spec = plan.Spec;
        var lowered = NetworkSteps.Lower(plan);
        var value = new Act?[lowered.Values.Count];
        value[NetworkSteps.InputValue] = new Act(n, spec.InputChannels, spec.InputSize, input.Select(v => (double)v).ToArray());
        foreach (var step in lowered.Steps)
        {
            var x = value[step.Input]!;
            switch (step.Kind)
            {
                case StepKind.Convolution: value[step.Output] = Conv(x, step.Conv!, step.Prefix!); break;
                case StepKind.BatchNorm: value[step.Output] = BatchNorm(x, step.Prefix!, training); break;
                case StepKind.Activation: value[step.Output] = Activate(x, step.Activation); break;
                case StepKind.Permutation: value[step.Output] = Shuffle(x, step.Permutation!); break;
                case StepKind.SkipAdd: value[step.Output] = Add(x, value[step.Skip]!); break;
                case StepKind.GlobalAveragePool: value[step.Output] = Pool(x); break;
                case StepKind.Linear: value[step.Output] = Linear(x, step.Prefix!, lowered.Value(step.Output).Channels); break;
                case StepKind.Bias: value[step.Output] = Bias(x, step.Prefix!); break;
                case StepKind.Loss: return x.Data;
                default: throw new NotSupportedException($"No reference for a {step.Kind} step.");
            }
        }
        throw new InvalidOperationException("The lowered network has no loss step.");
    }

    private static Act Pool(Act x)
    {
        var pooled = new Act(x.N, x.Channels, 1);
        for (var i = 0; i < x.N; i++)
        for (var ch = 0; ch < x.Channels; ch++)
        {
            double sum = 0;
            for (var p = 0; p < x.Size * x.Size; p++) sum += x[i, ch, p];
            pooled[i, ch, 0] = sum / (x.Size * x.Size);
        }
        return pooled;
    }

    /// <summary>The fully connected layer on the pooled [n, C, 1, 1]: [n, classes] (as a 1x1 map, the same memory).</summary>
    private Act Linear(Act pooled, string prefix, int classes)
    {
        var w = values[prefix + ".weight"];
        var b = values[prefix + ".bias"];
        var logits = new Act(pooled.N, classes, 1);
        for (var i = 0; i < pooled.N; i++)
        for (var o = 0; o < classes; o++)
        {
            double sum = b[o];
            for (var ch = 0; ch < pooled.Channels; ch++) sum += w[o * pooled.Channels + ch] * pooled[i, ch, 0];
            logits[i, o, 0] = sum;
        }
        return logits;
    }

    /// <summary>The grouped head's bias on W_L's 1x1 output.</summary>
    private Act Bias(Act x, string prefix)
    {
        var b = values[prefix + ".bias"];
        var y = new Act(x.N, x.Channels, x.Size);
        for (var i = 0; i < x.N; i++)
        for (var o = 0; o < x.Channels; o++) y[i, o, 0] = x[i, o, 0] + b[o];
        return y;
    }

    private Act Conv(Act x, GroupConvPlan conv, string name)
    {
        var w = values[name + ".weight"];
        var k = conv.KernelSize;
        var pad = conv.Padding;
        var y = new Act(x.N, conv.OutChannels, conv.OutputSize);
        var outPerBranch = conv.OutPerBranch;
        for (var i = 0; i < x.N; i++)
        for (var o = 0; o < conv.OutChannels; o++)
        {
            var branch = o / outPerBranch;
            for (var oy = 0; oy < conv.OutputSize; oy++)
            for (var ox = 0; ox < conv.OutputSize; ox++)
            {
                double sum = 0;
                for (var j = 0; j < conv.K; j++)
                {
                    var ic = branch * conv.K + j;
                    for (var ky = 0; ky < k; ky++)
                    for (var kx = 0; kx < k; kx++)
                    {
                        var iy = oy * conv.Stride + ky - pad;
                        var ix = ox * conv.Stride + kx - pad;
                        if (iy < 0 || ix < 0 || iy >= x.Size || ix >= x.Size) continue;
                        sum += w[((o * conv.K + j) * k + ky) * k + kx] * x[i, ic, iy * x.Size + ix];
                    }
                }
                y[i, o, oy * y.Size + ox] = sum;
            }
        }
        return y;
    }

    private Act BatchNorm(Act x, string name, bool training)
    {
        var gamma = values[name + ".weight"];
        var beta = values[name + ".bias"];
        var y = new Act(x.N, x.Channels, x.Size);
        var count = x.N * x.Size * x.Size;
        for (var c = 0; c < x.Channels; c++)
        {
            double mean, variance;
            if (training)
            {
                double sum = 0, squares = 0;
                for (var i = 0; i < x.N; i++)
                for (var p = 0; p < x.Size * x.Size; p++) sum += x[i, c, p];
                mean = sum / count;
                for (var i = 0; i < x.N; i++)
                for (var p = 0; p < x.Size * x.Size; p++) squares += (x[i, c, p] - mean) * (x[i, c, p] - mean);
                variance = squares / count;
            }
            else
            {
                mean = values[name + ".running_mean"][c];
                variance = values[name + ".running_var"][c];
            }
            var scale = gamma[c] / Math.Sqrt(variance + 1e-5);
            for (var i = 0; i < x.N; i++)
            for (var p = 0; p < x.Size * x.Size; p++) y[i, c, p] = (x[i, c, p] - mean) * scale + beta[c];
        }
        return y;
    }

    private static Act Shuffle(Act x, PermutationPlan permutation)
    {
        var source = permutation.Source();
        var y = new Act(x.N, x.Channels, x.Size);
        for (var i = 0; i < x.N; i++)
        for (var c = 0; c < x.Channels; c++)
        for (var p = 0; p < x.Size * x.Size; p++) y[i, c, p] = x[i, source[c], p];
        return y;
    }

    private static Act Relu(Act x) => x.Map(v => Math.Max(0, v));

    private static Act Activate(Act x, Activation activation) => activation switch
    {
        Activation.Relu => Relu(x),
        Activation.Relu6 => x.Map(v => Math.Clamp(v, 0, 6)),
        _ => x,
    };

    private static Act Add(Act a, Act b)
    {
        var y = new Act(a.N, a.Channels, a.Size);
        for (var i = 0; i < y.Data.Length; i++) y.Data[i] = a.Data[i] + b.Data[i];
        return y;
    }

    private sealed class Act(int n, int channels, int size, double[]? data = null)
    {
        public int N { get; } = n;

        public int Channels { get; } = channels;

        public int Size { get; } = size;

        public double[] Data { get; } = data ?? new double[n * channels * size * size];

        public double this[int i, int c, int p]
        {
            get => Data[(i * Channels + c) * Size * Size + p];
            set => Data[(i * Channels + c) * Size * Size + p] = value;
        }

        public Act Map(Func<double, double> f) => new(N, Channels, Size, Data.Select(f).ToArray());
    }
}
