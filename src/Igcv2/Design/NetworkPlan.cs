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

/// <summary>
/// One IGCV2 block, W = P_L W_L ... P_2 W_2 P_1 W_1 (paper eq. 5): BN after every group convolution,
/// ReLU at the end (and after the spatial convolution when <see cref="Nonlinear"/>), plus the
/// identity skip from the input of block <see cref="SkipFrom"/> added before the final ReLU.
/// </summary>
public sealed record BlockPlan(
    string Name,
    int Stage,
    int Index,
    int InChannels,
    int OutChannels,
    int InputSize,
    int OutputSize,
    EquatableArray<int> K,
    EquatableArray<GroupConvPlan> Convs,
    EquatableArray<PermutationPlan> Permutations,
    bool Nonlinear,
    int SkipFrom)
{
    public int L => K.Count;

    public int Stride => Convs[0].Stride;

    public bool HasSkip => SkipFrom >= 0;

    /// <summary>C*S*K_1 + C*sum_{l>=2} K_l (paper eq. 7, Tables 2 and 5).</summary>
    public long Weights => checked(Convs.Sum(c => c.Weights));

    /// <summary>Weights plus BN gamma and beta after every group convolution.</summary>
    public long Parameters => checked(Weights + Convs.Sum(c => 2L * c.OutChannels));

    public long MultiplyAdds => checked(Convs.Sum(c => c.MultiplyAdds));
}

/// <summary>Global average pooling, the fully connected layer (with bias), softmax cross-entropy.</summary>
public sealed record ClassifierPlan(int InChannels, int Classes, int InputSize)
{
    public string Name => "classifier";

    public long Weights => checked((long)InChannels * Classes);

    public long Parameters => checked(Weights + Classes);

    public long MultiplyAdds => Weights;
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
                rows.Add(new PlanRow(block.Name, "Igcv2Block", block.InChannels, block.OutChannels, block.K.ToString(),
                    block.OutputSize, block.Weights, block.Parameters, block.MultiplyAdds));
            }
            rows.Add(new PlanRow(Classifier.Name, "Classifier", Classifier.InChannels, Classifier.Classes, "-", 1,
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
                    // A skip only joins equal shapes: drop those whose group changes width or size.
                    for (var i = first; i < blocks.Count; i++)
                    {
                        var block = blocks[i];
                        if (block.SkipFrom < 0) continue;
                        var from = blocks[block.SkipFrom];
                        if (from.InChannels != block.OutChannels || from.InputSize != block.OutputSize)
                        {
                            blocks[i] = block with { SkipFrom = -1 };
                        }
                    }
                    break;
            }
        }
        return new NetworkPlan(spec, stem, blocks.ToEquatableArray(), new ClassifierPlan(channels, spec.Classes, size));
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
        var k = stage.K.Select(kl => Shapes.FirstBlockK(kl, inChannels)).ToEquatableArray();
        var outChannels = stage.Channels;
        var outSize = Shapes.ConvolvedSize(inSize, stride);
        var name = FormattableString.Invariant($"stage{stageNumber}.block{index}");
        var convs = new List<GroupConvPlan>();
        var permutations = new List<PermutationPlan>();
        for (var l = 0; l < k.Count; l++)
        {
            var isLast = l == k.Count - 1;
            var convOut = isLast ? outChannels : inChannels;
            var conv = l == 0
                ? new GroupConvPlan(name + ".conv1", inChannels, convOut, k[0], 3, stride, inSize, outSize)
                : new GroupConvPlan(name + ".conv" + (l + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), inChannels, convOut, k[l], 1, 1, outSize, outSize);
            convs.Add(conv);
            permutations.Add(new PermutationPlan(conv.OutChannels, conv.Branches));
        }
        return new BlockPlan(name, stageNumber, index, inChannels, outChannels, inSize, outSize, k,
            convs.ToEquatableArray(), permutations.ToEquatableArray(), stage.Nonlinear, skipFrom);
    }
}
