using Igcv2.Design;
using Igcv2.Kernels;
using Igcv2.Training;

namespace Igcv2.GpuBench;

/// <summary>Where one training step's time goes, by op kind.</summary>
public sealed record OpKindTime(string Kind, int Calls, double Ms);

/// <summary>
/// Where a training step's time goes, without instrumenting the generated code: the step's device.Ops calls are
/// listed from the model's lowered steps (the list the generator prints: per conv W_l, BN_l, the Figure 5 ReLU, P_l,
/// the skip's add through its projection when it has one, the block's ReLU; backward in reverse), each distinct call
/// (kind and shapes) is timed alone on its own buffers (median of runs after warm-up), and the times are summed
/// per kind. The sum is compared with the measured step: the difference is what isolation misses (cache effects
/// between ops, launch gaps).
/// </summary>
public static class OpProfile
{
    private sealed record Call(string Kind, string Signature, Func<Device, (Action Run, IDisposable[] Owned)> Build);

    public static List<OpKindTime> Run(Device device, BenchNetwork network, int n, int warmup, int runs)
    {
        var calls = Calls(network.Plan, n);
        var perSignature = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var call in calls)
        {
            if (perSignature.ContainsKey(call.Signature)) continue;
            var (run, owned) = call.Build(device);
            try
            {
                perSignature[call.Signature] = ModelTiming.Time(device, run, warmup, runs).Median;
            }
            finally
            {
                foreach (var t in owned) t.Dispose();
            }
        }
        var result = calls.GroupBy(c => c.Kind)
            .Select(g => new OpKindTime(g.Key, g.Count(), g.Sum(c => perSignature[c.Signature])))
            .ToList();

        // The optimizer step over the real parameter set.
        using (var model = network.Create(device, 1, 0))
        using (var sgd = new Sgd(model.Parameters))
        {
            foreach (var p in model.Parameters) p.Gradient!.CopyFrom(TensorUtil.RandomValues(p.Length, 5));
            result.Add(new OpKindTime("sgd step (all parameters)", model.Parameters.Count, ModelTiming.Time(device, () => sgd.Step(1e-6), warmup, runs).Median));
        }
        return result.OrderByDescending(r => r.Ms).ToList();
    }

    /// <summary>
    /// The step's ops, forward in the lowered steps' order (<see cref="NetworkSteps"/>), backward in reverse: W_l (and the
    /// projection shortcut's 1x1) backward is input and weight gradient, BN's its backward, the activation's its derivative,
    /// P_l's the inverse shuffle, the skip's add a copy of its share and its add at the source. The fully connected head,
    /// with pooling and the loss, is one call; a grouped head's convolutions and BN are timed as steps.
    /// </summary>
    private static List<Call> Calls(NetworkPlan plan, int n)
    {
        var lowered = NetworkSteps.Lower(plan);
        var forward = new List<Call>();
        var backward = new List<Call>();
        foreach (var step in lowered.Steps)
        {
            var value = step.Output >= 0 ? lowered.Value(step.Output) : null;
            var stepBackward = new List<Call>();
            switch (step.Kind)
            {
                case StepKind.Convolution:
                    forward.Add(Conv(step.Conv!, n, "forward"));
                    stepBackward.Add(Conv(step.Conv!, n, "backward input"));
                    stepBackward.Add(Conv(step.Conv!, n, "backward weight"));
                    break;
                case StepKind.BatchNorm:
                    forward.Add(BatchNorm(value!.Channels, value.Size, n, backward: false));
                    stepBackward.Add(BatchNorm(value.Channels, value.Size, n, backward: true));
                    break;
                case StepKind.Activation:
                    // ReLU6 costs what ReLU does: one elementwise pass each way.
                    forward.Add(Elementwise("relu", value!.Channels, value.Size, n));
                    stepBackward.Add(Elementwise("relu backward", value.Channels, value.Size, n));
                    break;
                case StepKind.Permutation when !step.Permutation!.IsIdentity:
                    forward.Add(Shuffle(step.Permutation, value!.Size, n));
                    stepBackward.Add(Shuffle(step.Permutation, value.Size, n));
                    break;
                case StepKind.SkipAdd:
                    forward.Add(Elementwise("add (skip)", value!.Channels, value.Size, n));
                    stepBackward.Add(Elementwise("copy (skip share)", value.Channels, value.Size, n));
                    stepBackward.Add(Elementwise("add (skip)", value.Channels, value.Size, n));
                    break;
                case StepKind.GlobalAveragePool when !plan.Classifier.IsGrouped:
                    var c = plan.Classifier;
                    forward.Add(new Call("pool + classifier + loss", $"head {c.InChannels} {c.InputSize} {c.Classes} {n}", d => Head(d, c, n)));
                    break;
            }
            backward.InsertRange(0, stepBackward);
        }
        return [.. forward, .. backward];
    }

    private static Call Conv(GroupConvPlan conv, int n, string pass)
    {
        var shape = conv.KernelSize == 3
            ? (conv.Branches == 1 ? "conv 3x3 dense (stem)" : conv.Branches == conv.InChannels ? "conv 3x3 channel-wise" : "conv 3x3 group")
            : "conv 1x1 group";
        var kind = $"{shape} {pass}";
        var signature = $"{kind} {conv.InChannels}->{conv.OutChannels} g{conv.Branches} s{conv.Stride} {conv.InputSize} n{n}";
        return new Call(kind, signature, d =>
        {
            var x = TensorUtil.Random(d, 1, n, conv.InChannels, conv.InputSize, conv.InputSize);
            var w = TensorUtil.Random(d, 2, conv.WeightShape);
            var y = TensorUtil.Random(d, 3, n, conv.OutChannels, conv.OutputSize, conv.OutputSize);
            var ops = d.Ops;
            Action run = pass switch
            {
                "forward" => () => ops.Conv2d(x, w, y, n, conv.Branches, conv.Stride),
                "backward input" => () => ops.Conv2dBackwardInput(y, w, x, n, conv.Branches, conv.Stride),
                _ => () => ops.Conv2dBackwardWeight(x, y, w, n, conv.Branches, conv.Stride),
            };
            return (run, [x, w, y]);
        });
    }

    private static Call BatchNorm(int c, int size, int n, bool backward)
    {
        var kind = backward ? "batch norm backward" : "batch norm training forward";
        return new Call(kind, $"{kind} {c} {size} n{n}", d =>
        {
            var x = TensorUtil.Random(d, 1, n, c, size, size);
            var y = TensorUtil.Random(d, 2, n, c, size, size);
            var gx = TensorUtil.Random(d, 3, n, c, size, size);
            var p = Enumerable.Range(0, 7).Select(i => TensorUtil.Random(d, 10 + i, c)).ToArray();
            var ops = d.Ops;
            ops.BatchNormTraining(x, p[0], p[1], y, p[2], p[3], p[4], p[5], n, 0.1f, 1e-5f);
            Action run = backward
                ? () => ops.BatchNormBackward(x, y, p[0], p[2], p[3], gx, p[5], p[6], n)
                : () => ops.BatchNormTraining(x, p[0], p[1], y, p[2], p[3], p[4], p[5], n, 0.1f, 1e-5f);
            return (run, [x, y, gx, .. p]);
        });
    }

    private static Call Shuffle(PermutationPlan permutation, int size, int n) =>
        new("channel shuffle", $"shuffle {permutation.Channels} g{permutation.Branches} {size} n{n}", d =>
        {
            var x = TensorUtil.Random(d, 1, n, permutation.Channels, size, size);
            var y = TensorUtil.Random(d, 2, n, permutation.Channels, size, size);
            var ops = d.Ops;
            return (() => ops.ChannelShuffle(x, y, n, permutation.Branches), [x, y]);
        });

    private static Call Elementwise(string kind, int c, int size, int n) =>
        new(kind, $"{kind} {c} {size} n{n}", d =>
        {
            var a = TensorUtil.Random(d, 1, n, c, size, size);
            var b = TensorUtil.Random(d, 2, n, c, size, size);
            var y = TensorUtil.Random(d, 3, n, c, size, size);
            var ops = d.Ops;
            Action run = kind switch
            {
                "relu" => () => ops.Relu(a, y, n),
                "relu backward" => () => ops.ReluBackward(a, b, y, n),
                "copy (skip share)" => () => ops.Copy(a, y),
                _ => () => ops.Add(a, b, y, n),
            };
            return (run, [a, b, y]);
        });

    private static (Action, IDisposable[]) Head(Device d, ClassifierPlan c, int n)
    {
        var x = TensorUtil.Random(d, 1, n, c.InChannels, c.InputSize, c.InputSize);
        var gx = TensorUtil.Random(d, 2, n, c.InChannels, c.InputSize, c.InputSize);
        var pooled = TensorUtil.Random(d, 3, n, c.InChannels);
        var gPooled = TensorUtil.Random(d, 4, n, c.InChannels);
        var w = TensorUtil.Random(d, 5, c.Classes, c.InChannels);
        var b = TensorUtil.Random(d, 6, c.Classes);
        var gw = TensorUtil.Random(d, 7, c.Classes, c.InChannels);
        var gb = TensorUtil.Random(d, 8, c.Classes);
        var logits = TensorUtil.Random(d, 9, n, c.Classes);
        var gLogits = TensorUtil.Random(d, 10, n, c.Classes);
        var labels = TensorUtil.Labels(d, n, c.Classes, 11);
        var ops = d.Ops;
        return (() =>
        {
            ops.GlobalAveragePool(x, pooled, n);
            ops.Linear(pooled, w, b, logits, n);
            ops.SoftmaxCrossEntropy(logits, labels, gLogits, n);
            ops.LinearBackward(pooled, w, gLogits, gPooled, gw, gb, n);
            ops.GlobalAveragePoolBackward(gPooled, gx, n);
        }, [x, gx, pooled, gPooled, w, b, gw, gb, logits, gLogits, labels]);
    }
}
