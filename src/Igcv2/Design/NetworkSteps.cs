using System.Collections.Generic;
using System.Globalization;

namespace Igcv2.Design;

/// <summary>What one step of the forward pass computes.</summary>
public enum StepKind
{
    /// <summary>W_l: a group convolution (the stem's dense 3x3, a block's W_l, a projection shortcut, the grouped head's W_l).</summary>
    Convolution,

    /// <summary>BN_l after the convolution before it.</summary>
    BatchNorm,

    /// <summary>ReLU or ReLU6 (<see cref="Step.Activation"/>).</summary>
    Activation,

    /// <summary>P_l, the interleaving channel shuffle (<see cref="Step.Permutation"/>; the identity is a step too).</summary>
    Permutation,

    /// <summary>h + skip: the block's identity or projected skip (<see cref="Step.Skip"/>).</summary>
    SkipAdd,

    /// <summary>Global average pooling to a 1x1 map.</summary>
    GlobalAveragePool,

    /// <summary>The fully connected classifier, weights and bias.</summary>
    Linear,

    /// <summary>The grouped head's bias on the logits (Table 8: it takes BN_L's place).</summary>
    Bias,

    /// <summary>Softmax cross-entropy of the logits; the model's Backward starts from its gradient.</summary>
    Loss,
}

/// <summary>
/// A tensor of the forward pass: [n, <see cref="Channels"/>, <see cref="Size"/>, <see cref="Size"/>], or [n,
/// <see cref="Channels"/>] when <see cref="Size"/> is 0 (the logits). Named after the step that computes it
/// (the ONNX export's tensor names).
/// </summary>
public sealed record StepValue(int Id, string Name, int Channels, int Size)
{
    public long Elements => checked((long)Channels * (Size == 0 ? 1 : Size * Size));
}

/// <summary>
/// One step of the lowered network: <see cref="Output"/> = <see cref="Kind"/>(<see cref="Input"/>[, <see cref="Skip"/>]),
/// values by id. <see cref="Layer"/> is the stem, the block or the classifier the step belongs to; <see cref="L"/> the
/// l of W_l, BN_l and P_l (0 for the stem and the projection shortcut). <see cref="Prefix"/> names the step's tensors:
/// <c>{Prefix}.weight</c> for a convolution, <c>.weight</c>, <c>.bias</c>, <c>.running_mean</c>, <c>.running_var</c> for BN,
/// <c>.weight</c> and <c>.bias</c> for the linear layer, <c>.bias</c> for the head's bias.
/// </summary>
public sealed record Step(
    StepKind Kind,
    string Name,
    string Layer,
    int L,
    int Input,
    int Output,
    int Skip = -1,
    GroupConvPlan? Conv = null,
    PermutationPlan? Permutation = null,
    Activation Activation = Activation.None,
    string? Prefix = null,
    bool OnSkipPath = false)
{
    /// <summary>Whether the step holds parameters or BN statistics.</summary>
    public bool HasTensors => Prefix is not null;
}

/// <summary>
/// A network lowered once into its forward steps (paper eq. 5 per block: W_l, BN_l, the activation, P_l; the skip's
/// add, through a 1x1 projection and BN when the shapes differ, then the block's activation), between the stem and
/// the head (pooling, the classifier, the loss). The generator prints these steps, the ONNX export writes them as
/// nodes, the GPU kit exports them, the tests' references run them; <see cref="BufferPlan"/> gives them buffers.
/// Value 0 is the input.
/// </summary>
public sealed record NetworkSteps(EquatableArray<StepValue> Values, EquatableArray<Step> Steps)
{
    public const int InputValue = 0;

    public StepValue Value(int id) => Values[id];

    /// <summary>The value the classifier writes, [n, classes].</summary>
    public StepValue Logits
    {
        get
        {
            foreach (var step in Steps)
            {
                if (step.Kind == StepKind.Loss) return Values[step.Input];
            }
            return Values[Values.Count - 1];
        }
    }

    /// <summary>Lowers <paramref name="plan"/>: one walk over its layers, the only one.</summary>
    public static NetworkSteps Lower(NetworkPlan plan)
    {
        var b = new Builder();
        var spec = plan.Spec;
        var x = b.Value("input", spec.InputChannels, spec.InputSize);
        if (plan.Stem is { } stem)
        {
            x = b.Convolution(stem.Conv, stem.Name, 0, x);
            x = b.Norm(stem.Name + ".bn", stem.Name, 0, x);
            x = b.Activate(Activation.Relu, stem.Name + ".relu", stem.Name, 0, x);
        }

        var blockInputs = new List<int>(plan.Blocks.Count);
        foreach (var block in plan.Blocks)
        {
            blockInputs.Add(x);
            for (var l = 1; l <= block.L; l++)
            {
                var n = l.ToString(CultureInfo.InvariantCulture);
                x = b.Convolution(block.Convs[l - 1], block.Name, l, x);
                x = b.Norm(block.Name + ".bn" + n, block.Name, l, x);
                var skip = -1;
                if (l == block.L && block.HasSkip)
                {
                    skip = blockInputs[block.SkipFrom];
                    if (block.Shortcut is { } shortcut)
                    {
                        skip = b.Convolution(shortcut, block.Name, 0, skip, onSkipPath: true);
                        skip = b.Norm(block.Name + ".shortcut.bn", block.Name, 0, skip, onSkipPath: true);
                    }
                }
                if (l < block.L) x = b.Activate(block.Activations[l - 1], block.Name + ".act" + n, block.Name, l, x);
                x = b.Permute(block.Permutations[l - 1], block.Name + ".shuffle" + n, block.Name, l, x);
                if (skip >= 0) x = b.Add(block.Name + ".add", block.Name, block.L, x, skip);
            }
            x = b.Activate(block.FinalActivation, block.Name + ".relu", block.Name, block.L, x);
        }

        var head = plan.Classifier;
        x = b.Step(StepKind.GlobalAveragePool, head.Name + ".pool", head.Name, 0, x, head.InChannels, 1);
        if (!head.IsGrouped)
        {
            x = b.Step(StepKind.Linear, head.Name + ".fc", head.Name, 0, x, head.Classes, 0, valueName: "logits", prefix: head.Name);
        }
        else
        {
            // The IGCV2* head (Table 8): W_l, BN_l, P_l on the 1x1 map for l < L, then W_L and the bias.
            for (var l = 1; l <= head.L; l++)
            {
                var n = l.ToString(CultureInfo.InvariantCulture);
                x = b.Convolution(head.Convs[l - 1], head.Name, l, x);
                if (l == head.L) break;
                x = b.Norm(head.Name + ".bn" + n, head.Name, l, x);
                x = b.Permute(head.Permutations[l - 1], head.Name + ".shuffle" + n, head.Name, l, x);
            }
            x = b.Step(StepKind.Bias, head.Name + ".bias", head.Name, 0, x, head.Classes, 0, valueName: "logits", prefix: head.Name);
        }
        b.Loss("loss", head.Name, x);
        return new NetworkSteps(b.Values.ToEquatableArray(), b.Steps.ToEquatableArray());
    }

    private sealed class Builder
    {
        public List<StepValue> Values { get; } = new();

        public List<Step> Steps { get; } = new();

        public int Value(string name, int channels, int size)
        {
            Values.Add(new StepValue(Values.Count, name, channels, size));
            return Values.Count - 1;
        }

        public int Step(StepKind kind, string name, string layer, int l, int input, int channels, int size,
            int skip = -1, GroupConvPlan? conv = null, PermutationPlan? permutation = null, Activation activation = Activation.None,
            string? valueName = null, string? prefix = null, bool onSkipPath = false)
        {
            var output = Value(valueName ?? name, channels, size);
            Steps.Add(new Step(kind, name, layer, l, input, output, skip, conv, permutation, activation, prefix, onSkipPath));
            return output;
        }

        public int Convolution(GroupConvPlan conv, string layer, int l, int input, bool onSkipPath = false) =>
            Step(StepKind.Convolution, conv.Name, layer, l, input, conv.OutChannels, conv.OutputSize, conv: conv, prefix: conv.Name, onSkipPath: onSkipPath);

        public int Norm(string name, string layer, int l, int input, bool onSkipPath = false) =>
            Step(StepKind.BatchNorm, name, layer, l, input, Values[input].Channels, Values[input].Size, prefix: name, onSkipPath: onSkipPath);

        /// <summary>An activation step, or none for <see cref="Activation.None"/>.</summary>
        public int Activate(Activation activation, string name, string layer, int l, int input) =>
            activation == Activation.None
                ? input
                : Step(StepKind.Activation, name, layer, l, input, Values[input].Channels, Values[input].Size, activation: activation);

        public int Permute(PermutationPlan permutation, string name, string layer, int l, int input) =>
            Step(StepKind.Permutation, name, layer, l, input, Values[input].Channels, Values[input].Size, permutation: permutation);

        public int Add(string name, string layer, int l, int input, int skip) =>
            Step(StepKind.SkipAdd, name, layer, l, input, Values[input].Channels, Values[input].Size, skip: skip);

        public void Loss(string name, string layer, int logits) =>
            Steps.Add(new Step(StepKind.Loss, name, layer, 0, logits, -1));
    }
}
