using System;
using System.Collections.Generic;
using System.Linq;

namespace Igcv2.Design;

/// <summary>
/// The l-th group convolution W_l of a block (or the stem's dense one): <see cref="Branches"/> branches,
/// each mapping <see cref="K"/> input channels to <see cref="OutPerBranch"/> output channels.
/// </summary>
public sealed record GroupConvPlan(
    string Name,
    int InChannels,
    int OutChannels,
    int K,
    int KernelSize,
    int Stride,
    int InputSize,
    int OutputSize)
{
    public int Branches => InChannels / K;

    public int OutPerBranch => OutChannels / Branches;

    public int Padding => KernelSize / 2;

    /// <summary>Weights as the paper counts them: C_out * K * kernel area (no bias).</summary>
    public long Weights => checked((long)OutChannels * K * KernelSize * KernelSize);

    /// <summary>Multiply-adds per image: weights times output positions.</summary>
    public long MultiplyAdds => checked(Weights * OutputSize * OutputSize);

    /// <summary>Weight tensor shape [C_out, K, k, k] (PyTorch and ONNX Conv layout with groups).</summary>
    public int[] WeightShape => new[] { OutChannels, K, KernelSize, KernelSize };
}

/// <summary>
/// P_l after a group convolution with <see cref="Branches"/> branches over <see cref="Channels"/>
/// channels: the channel shuffle <c>out[j*G + g] = in[g*(C/G) + j]</c> (<see cref="Interleaving"/>).
/// </summary>
public sealed record PermutationPlan(int Channels, int Branches)
{
    public bool IsIdentity => Interleaving.IsIdentity(Channels, Branches);

    public int PerBranch => Channels / Branches;

    /// <summary>The gather <c>out[o] = in[Source[o]]</c>.</summary>
    public int[] Source() => Interleaving.ChannelShuffle(Channels, Branches);

    /// <summary>"out[j*8 + g] = in[g*8 + j]", or "identity".</summary>
    public string Formula => IsIdentity
        ? "identity"
        : FormattableString.Invariant($"out[j*{Branches} + g] = in[g*{PerBranch} + j]");
}

/// <summary>The dense 3x3 stem convolution, BN, ReLU.</summary>
public sealed record StemPlan(GroupConvPlan Conv)
{
    public string Name => "stem";

    public long Weights => Conv.Weights;

    public long Parameters => checked(Conv.Weights + 2L * Conv.OutChannels);

    public long MultiplyAdds => Conv.MultiplyAdds;
}

/// <summary>What follows a BN: nothing, ReLU, or ReLU6 (min(max(x, 0), 6), the IGCV3 and MobileNetV2 nonlinearity).</summary>
public enum Activation
{
    None,
    Relu,
    Relu6,
}

/// <summary>
/// One block, W = P_L W_L ... P_2 W_2 P_1 W_1 (paper eq. 5): each group convolution W_l is followed by BN,
/// then <see cref="Activations"/>[l-1] (only before the last), then P_l; the identity skip from the input
/// of block <see cref="SkipFrom"/> is added after P_L (through <see cref="Shortcut"/>, a 1x1 convolution and BN,
/// when the shapes differ), then <see cref="FinalActivation"/>.
/// An IGCV2 block (<see cref="Kind"/> "Igcv2Block") ends with ReLU, and has ReLU after BN_1 when
/// nonlinear (Figure 5); an IGCV3 block ("Igcv3Block", Figure 6) has ReLU6 after the channel-wise
/// convolution and ends linear.
/// </summary>
public sealed record BlockPlan(
    string Name,
    string Kind,
    int Stage,
    int Index,
    int InChannels,
    int OutChannels,
    int InputSize,
    int OutputSize,
    EquatableArray<int> K,
    string Description,
    EquatableArray<GroupConvPlan> Convs,
    EquatableArray<PermutationPlan> Permutations,
    EquatableArray<Activation> Activations,
    Activation FinalActivation,
    int SkipFrom,
    GroupConvPlan? Shortcut = null)
{
    public int L => Convs.Count;

    /// <summary>The stride of the block (carried by its spatial convolution).</summary>
    public int Stride => Convs.Max(c => c.Stride);

    public bool HasSkip => SkipFrom >= 0;

    /// <summary>
    /// Every convolution after W_1 is 1x1 with stride 1 (IGCV2, Xception and IGC-V1 blocks; not IGCV3's): a band
    /// of output rows then needs only W_1's halo of the input, so the block can run fused per band.
    /// </summary>
    public bool IsPointwiseAfterFirst => Convs.Skip(1).All(c => c.KernelSize == 1 && c.Stride == 1);

    /// <summary>"K = [1, 8, 8], L = 3" for an IGCV2 block, "t=6, g1=2, g2=2" for an IGCV3 block.</summary>
    public string Heading => Kind == "Igcv2Block" ? FormattableString.Invariant($"K = {K}, L = {L}") : Description;

    /// <summary>C*S*K_1 + C*sum_{l>=2} K_l (paper eq. 7, Tables 2 and 5), plus the projection shortcut's C_in*C_out.</summary>
    public long Weights => checked(Convs.Sum(c => c.Weights) + (Shortcut?.Weights ?? 0));

    /// <summary>Weights plus BN gamma and beta after every group convolution (and after the projection).</summary>
    public long Parameters => checked(Weights + Convs.Sum(c => 2L * c.OutChannels) + (Shortcut is null ? 0 : 2L * Shortcut.OutChannels));

    public long MultiplyAdds => checked(Convs.Sum(c => c.MultiplyAdds) + (Shortcut?.MultiplyAdds ?? 0));
}

/// <summary>
/// Global average pooling, then either the fully connected layer (with bias) or, when <see cref="Convs"/> is
/// not empty, the paper's IGCV2* head (Table 8): the 1x1 group convolutions W_1..W_L on the pooled 1x1 map,
/// h = W_L P_{L-1} BN_{L-1} W_{L-1} ... P_1 BN_1 W_1 pooled, plus a bias. No P_L and no BN_L: after the
/// last convolution a permutation would only reorder the classes, and the bias takes BN's place.
/// Softmax cross-entropy follows.
/// </summary>
public sealed record ClassifierPlan(int InChannels, int Classes, int InputSize, EquatableArray<GroupConvPlan> Convs)
{
    public string Name => "classifier";

    public bool IsGrouped => Convs.Count > 0;

    public int L => Convs.Count;

    /// <summary>K_1..K_L of the grouped head, empty for the fully connected layer.</summary>
    public EquatableArray<int> K => Convs.Select(c => c.K).ToEquatableArray();

    /// <summary>P_1..P_{L-1}, after each convolution but the last.</summary>
    public EquatableArray<PermutationPlan> Permutations =>
        Convs.Take(Math.Max(0, L - 1)).Select(c => new PermutationPlan(c.OutChannels, c.Branches)).ToEquatableArray();

    /// <summary>"K = [256, 256], L = 2" for the grouped head, "fully connected" otherwise.</summary>
    public string Heading => IsGrouped ? FormattableString.Invariant($"K = {K}, L = {L}") : "fully connected";

    /// <summary>Summary text: the head's K, or "-" for the fully connected layer.</summary>
    public string Description => IsGrouped ? K + " 1x1" : "-";

    /// <summary>C * classes for the fully connected layer; the group convolutions' C_out * K_l otherwise.</summary>
    public long Weights => IsGrouped ? checked(Convs.Sum(c => c.Weights)) : checked((long)InChannels * Classes);

    /// <summary>Weights, the bias, and BN gamma and beta after every convolution but the last.</summary>
    public long Parameters => checked(Weights + Classes + Convs.Take(Math.Max(0, L - 1)).Sum(c => 2L * c.OutChannels));

    /// <summary>Every weight is used once per image (a 1x1 map).</summary>
    public long MultiplyAdds => Weights;

    /// <summary>
    /// The head for <paramref name="k"/> on the pooled <paramref name="channels"/>: W_1..W_{L-1} keep the
    /// width, W_L maps it to <paramref name="classes"/>; an empty K gives the fully connected layer.
    /// </summary>
    public static ClassifierPlan Create(int channels, int classes, int inputSize, IReadOnlyList<int> k)
    {
        var convs = new List<GroupConvPlan>();
        for (var l = 0; l < k.Count; l++)
        {
            var name = "classifier.conv" + (l + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            convs.Add(new GroupConvPlan(name, channels, l == k.Count - 1 ? classes : channels, k[l], 1, 1, 1, 1));
        }
        return new ClassifierPlan(channels, classes, inputSize, convs.ToEquatableArray());
    }
}

/// <summary>One row of a network's summary: a layer or block and its counts.</summary>
public sealed record PlanRow(
    string Name,
    string Kind,
    int InChannels,
    int OutChannels,
    string K,
    int OutputSize,
    long Weights,
    long Parameters,
    long MultiplyAdds);

/// <summary>
/// A network laid out layer by layer: every convolution, permutation and skip, with the paper's counts.
/// Built only from a spec that <see cref="NetworkValidator"/> accepts without errors.
/// </summary>
public sealed record NetworkPlan(
    NetworkSpec Spec,
    StemPlan? Stem,
    EquatableArray<BlockPlan> Blocks,
    ClassifierPlan Classifier)
{
    public long ParameterCount => checked(Rows.Sum(r => r.Parameters));

    public long MultiplyAdds => checked(Rows.Sum(r => r.MultiplyAdds));

    public IReadOnlyList<PlanRow> Rows
    {
        get
        {
            var rows = new List<PlanRow>();
            if (Stem is { } stem)
            {
                rows.Add(new PlanRow(stem.Name, "Stem", stem.Conv.InChannels, stem.Conv.OutChannels, "-",
                    stem.Conv.OutputSize, stem.Weights, stem.Parameters, stem.MultiplyAdds));
            }
            foreach (var block in Blocks)
            {
                rows.Add(new PlanRow(block.Name, block.Kind, block.InChannels, block.OutChannels, block.Description,
                    block.OutputSize, block.Weights, block.Parameters, block.MultiplyAdds));
            }
            rows.Add(new PlanRow(Classifier.Name, "Classifier", Classifier.InChannels, Classifier.Classes, Classifier.Description, 1,
                Classifier.Weights, Classifier.Parameters, Classifier.MultiplyAdds));
            return rows;
        }
    }

    /// <summary>Validates <paramref name="spec"/> and lays it out; throws with every error's message if it is invalid.</summary>
    public static NetworkPlan Create(NetworkSpec spec)
    {
        var result = NetworkValidator.Validate(spec);
        if (result.Plan is null)
        {
            var errors = result.Issues.Where(i => i.IsError).Select(i => i.Id + ": " + i.Message);
            throw new ArgumentException("Invalid IGCV2 network: " + string.Join(" ", errors), nameof(spec));
        }
        return result.Plan;
    }

    /// <summary>Lays out a spec whose shapes are known to be valid.</summary>
    internal static NetworkPlan Build(NetworkSpec spec)
    {
        StemPlan? stem = null;
        var channels = spec.InputChannels;
        var size = spec.InputSize;
        var blocks = new List<BlockPlan>();
        var stageNumber = 0;
        var head = EquatableArray<int>.Empty;
        foreach (var layer in spec.Layers)
        {
            switch (layer)
            {
                case StemSpec s:
                    var outSize = Shapes.ConvolvedSize(size, s.Stride);
                    stem = new StemPlan(new GroupConvPlan("stem.conv", channels, s.Channels, channels, 3, s.Stride, size, outSize));
                    channels = s.Channels;
                    size = outSize;
                    break;
                case StageSpec st:
                    stageNumber++;
                    var first = blocks.Count;
                    for (var b = 0; b < st.Blocks; b++)
                    {
                        var stride = b == 0 ? st.Stride : 1;
                        var block = BuildBlock(st, stageNumber, b + 1, channels, size, stride, SkipSource(st, b, first));
                        blocks.Add(block);
                        channels = block.OutChannels;
                        size = block.OutputSize;
                    }
                    DropMismatchedSkips(blocks, first, st.Projection);
                    break;
                case Igcv3StageSpec v3:
                    stageNumber++;
                    for (var b = 0; b < v3.Blocks; b++)
                    {
                        var block = BuildIgcv3Block(v3, stageNumber, b + 1, channels, size, b == 0 ? v3.Stride : 1, blocks.Count);
                        blocks.Add(block);
                        channels = block.OutChannels;
                        size = block.OutputSize;
                    }
                    break;
                case ClassifierSpec classifier:
                    head = classifier.K;
                    break;
            }
        }
        return new NetworkPlan(spec, stem, blocks.ToEquatableArray(), ClassifierPlan.Create(channels, spec.Classes, size, head));
    }

    /// <summary>
    /// An identity skip only joins equal shapes: a group that changes width or size loses its skip, or with
    /// <paramref name="projection"/> gets a 1x1 convolution C_in -> C_out with the group's stride on it.
    /// </summary>
    private static void DropMismatchedSkips(List<BlockPlan> blocks, int first, bool projection)
    {
        for (var i = first; i < blocks.Count; i++)
        {
            var block = blocks[i];
            if (block.SkipFrom < 0) continue;
            var from = blocks[block.SkipFrom];
            if (from.InChannels == block.OutChannels && from.InputSize == block.OutputSize) continue;
            // Only a stage's first block strides, and a skip group starts there or later: the group's stride is its first block's.
            blocks[i] = projection
                ? block with { Shortcut = new GroupConvPlan(block.Name + ".shortcut.conv", from.InChannels, block.OutChannels, from.InChannels, 1, from.Stride, from.InputSize, block.OutputSize) }
                : block with { SkipFrom = -1 };
        }
    }

    /// <summary>
    /// With SkipEvery = n, a stage's blocks form groups of n (the paper: a skip every two blocks); the
    /// last block of each full group receives the input of the group's first block.
    /// </summary>
    private static int SkipSource(StageSpec stage, int block, int firstOfStage)
    {
        var n = stage.SkipEvery;
        if (n <= 0 || (block + 1) % n != 0) return -1;
        return firstOfStage + block + 1 - n;
    }

    private static BlockPlan BuildBlock(StageSpec stage, int stageNumber, int index, int inChannels, int inSize, int stride, int skipFrom)
    {
        var outChannels = stage.Channels;
        var widenFirst = stage.WidenFirst && inChannels != outChannels;
        var k = widenFirst ? stage.K : stage.K.Select(kl => Shapes.FirstBlockK(kl, inChannels)).ToEquatableArray();
        var outSize = Shapes.ConvolvedSize(inSize, stride);
        var name = FormattableString.Invariant($"stage{stageNumber}.block{index}");
        var convs = new List<GroupConvPlan>();
        var permutations = new List<PermutationPlan>();
        for (var l = 0; l < k.Count; l++)
        {
            var convName = name + ".conv" + (l + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            GroupConvPlan conv;
            if (widenFirst)
            {
                // W_1 widens: C_out/K_1 branches, each C_in/(C_out/K_1) -> K_1; the rest group C_out.
                conv = l == 0
                    ? new GroupConvPlan(convName, inChannels, outChannels, inChannels / (outChannels / k[0]), stage.Spatial ? 3 : 1, stride, inSize, outSize)
                    : new GroupConvPlan(convName, outChannels, outChannels, k[l], 1, 1, outSize, outSize);
            }
            else
            {
                var convOut = l == k.Count - 1 ? outChannels : inChannels;
                conv = l == 0
                    ? new GroupConvPlan(convName, inChannels, convOut, k[0], stage.Spatial ? 3 : 1, stride, inSize, outSize)
                    : new GroupConvPlan(convName, inChannels, convOut, k[l], 1, 1, outSize, outSize);
            }
            convs.Add(conv);
            permutations.Add(new PermutationPlan(conv.OutChannels, conv.Branches));
        }
        var activations = Enumerable.Range(0, k.Count).Select(l => l == 0 && stage.Nonlinear && k.Count > 1 ? Activation.Relu : Activation.None);
        return new BlockPlan(name, "Igcv2Block", stageNumber, index, inChannels, outChannels, inSize, outSize, k, k + (stage.Spatial ? "" : " 1x1"),
            convs.ToEquatableArray(), permutations.ToEquatableArray(), activations.ToEquatableArray(), Activation.Relu, skipFrom);
    }

    /// <summary>
    /// An IGCV3 block (paper Figure 6): 1x1 group expansion (G1 branches, C_in -> t*C_in), channel-wise 3x3
    /// with the stride, linear 1x1 group projection (G2 branches) to C_out; ReLU6 after the channel-wise
    /// convolution (and after the expansion when nonlinear); a skip over the block when it keeps its shape.
    /// </summary>
    private static BlockPlan BuildIgcv3Block(Igcv3StageSpec stage, int stageNumber, int index, int inChannels, int inSize, int stride, int ordinal)
    {
        var hidden = inChannels * stage.Expansion;
        var outSize = Shapes.ConvolvedSize(inSize, stride);
        var name = FormattableString.Invariant($"stage{stageNumber}.block{index}");
        var convs = new List<GroupConvPlan>();
        var activations = new List<Activation>();
        string Conv(int l) => name + ".conv" + l.ToString(System.Globalization.CultureInfo.InvariantCulture);
        convs.Add(new GroupConvPlan(Conv(1), inChannels, hidden, inChannels / stage.G1, 1, 1, inSize, inSize));
        activations.Add(stage.Nonlinear ? Activation.Relu6 : Activation.None);
        convs.Add(new GroupConvPlan(Conv(convs.Count + 1), hidden, hidden, 1, 3, stride, inSize, outSize));
        activations.Add(Activation.Relu6);
        convs.Add(new GroupConvPlan(Conv(convs.Count + 1), hidden, stage.Channels, hidden / stage.G2, 1, 1, outSize, outSize));
        activations.Add(Activation.None);
        var permutations = convs.Select(c => new PermutationPlan(c.OutChannels, c.Branches));
        var keepsShape = inChannels == stage.Channels && stride == 1;
        var description = FormattableString.Invariant($"t={stage.Expansion}, g1={stage.G1}, g2={stage.G2}");
        return new BlockPlan(name, "Igcv3Block", stageNumber, index, inChannels, stage.Channels, inSize, outSize,
            convs.Select(c => c.K).ToEquatableArray(), description, convs.ToEquatableArray(), permutations.ToEquatableArray(),
            activations.ToEquatableArray(), Activation.None, keepsShape ? ordinal : -1);
    }
}
