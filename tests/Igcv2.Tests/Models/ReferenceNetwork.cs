using Igcv2.Design;

namespace Igcv2.Tests.Models;

/// <summary>
/// A plain double-precision forward pass that walks a <see cref="NetworkPlan"/> with loops over every
/// index, independent of the generated code and the kernels: the oracle for whole-network tests.
/// </summary>
internal sealed class ReferenceNetwork(NetworkPlan plan, IReadOnlyDictionary<string, float[]> values)
{
    public double[] Forward(float[] input, int n, bool training)
    {
        var spec = plan.Spec;
        var x = new Act(n, spec.InputChannels, spec.InputSize, input.Select(v => (double)v).ToArray());
        if (plan.Stem is { } stem)
        {
            x = Relu(BatchNorm(Conv(x, stem.Conv, "stem.conv"), "stem.bn", training));
        }

        var inputs = new List<Act>();
        foreach (var block in plan.Blocks)
        {
            inputs.Add(x);
            var h = x;
            for (var l = 1; l <= block.L; l++)
            {
                h = BatchNorm(Conv(h, block.Convs[l - 1], $"{block.Name}.conv{l}"), $"{block.Name}.bn{l}", training);
                if (l < block.L) h = Activate(h, block.Activations[l - 1]);
                h = Shuffle(h, block.Permutations[l - 1]);
            }
            if (block.Shortcut is { } shortcut) h = Add(h, BatchNorm(Conv(inputs[block.SkipFrom], shortcut, shortcut.Name), $"{block.Name}.shortcut.bn", training));
            else if (block.HasSkip) h = Add(h, inputs[block.SkipFrom]);
            x = Activate(h, block.FinalActivation);
        }

        var c = plan.Classifier;
        var pooled = new Act(n, c.InChannels, 1);
        for (var i = 0; i < n; i++)
        for (var ch = 0; ch < c.InChannels; ch++)
        {
            double sum = 0;
            for (var p = 0; p < x.Size * x.Size; p++) sum += x[i, ch, p];
            pooled[i, ch, 0] = sum / (x.Size * x.Size);
        }

        var b = values["classifier.bias"];
        var logits = new double[n * c.Classes];
        if (c.IsGrouped)
        {
            // The IGCV2* head: W_l, BN_l, P_l on the 1x1 map for l < L; W_L plus the bias.
            var h = pooled;
            for (var l = 1; l < c.L; l++) h = Shuffle(BatchNorm(Conv(h, c.Convs[l - 1], $"classifier.conv{l}"), $"classifier.bn{l}", training), c.Permutations[l - 1]);
            h = Conv(h, c.Convs[c.L - 1], $"classifier.conv{c.L}");
            for (var i = 0; i < n; i++)
            for (var o = 0; o < c.Classes; o++) logits[i * c.Classes + o] = h[i, o, 0] + b[o];
            return logits;
        }

        var w = values["classifier.weight"];
        for (var i = 0; i < n; i++)
        {
            for (var o = 0; o < c.Classes; o++)
            {
                double sum = b[o];
                for (var ch = 0; ch < c.InChannels; ch++) sum += w[o * c.InChannels + ch] * pooled[i, ch, 0];
                logits[i * c.Classes + o] = sum;
            }
        }
        return logits;
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
