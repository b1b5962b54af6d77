using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Igcv2.Design;

/// <summary>
/// A finding about a spec. <see cref="LayerIndex"/> is the index of the layer attribute it is about
/// (-1: the network attribute). Ids and meanings are the generator's diagnostics (DESIGN.md).
/// </summary>
public sealed record DesignIssue(string Id, bool IsError, int LayerIndex, string Message)
{
    /// <summary>The K the message proposes (the IDE's code fix writes it into the attribute); empty when it proposes none.</summary>
    public EquatableArray<int> SuggestedK { get; init; } = EquatableArray<int>.Empty;
}

/// <summary>Where the checks report an issue; <paramref name="suggestedK"/> is the K its message proposes, if any.</summary>
internal delegate void IssueSink(string id, int layer, string message, int[]? suggestedK = null);

/// <summary>The issues of a spec, and its plan when none of them is an error.</summary>
public sealed record ValidationResult(EquatableArray<DesignIssue> Issues, NetworkPlan? Plan);

/// <summary>
/// Checks a <see cref="NetworkSpec"/> against the paper's conditions and the shape rules. Never throws:
/// whatever the spec holds, the answer is issues and perhaps a plan.
/// </summary>
public static class NetworkValidator
{
    public const string NotDense = "IGCV001";
    public const string Redundant = "IGCV002";
    public const string BadK = "IGCV003";
    public const string BadL = "IGCV004";
    public const string BadDeclaration = "IGCV006";
    public const string BadSize = "IGCV007";
    public const string Unbalanced = "IGCV005";
    public const string BadLayerOrder = "IGCV008";

    public static ValidationResult Validate(NetworkSpec spec)
    {
        var issues = new List<DesignIssue>();
        void Error(string id, int layer, string message, int[]? suggestedK = null) =>
            issues.Add(new DesignIssue(id, true, layer, message) { SuggestedK = EquatableArray.Create(suggestedK ?? []) });
        void Warning(string id, int layer, string message, int[]? suggestedK = null) =>
            issues.Add(new DesignIssue(id, false, layer, message) { SuggestedK = EquatableArray.Create(suggestedK ?? []) });

        CheckRange(spec.InputChannels, "InputChannels", Shapes.MaxChannels, -1, Error);
        CheckRange(spec.InputSize, "InputSize", Shapes.MaxInputSize, -1, Error);
        CheckRange(spec.Classes, "Classes", Shapes.MaxChannels, -1, Error);
        if (spec.Layers.Count == 0)
        {
            Error(BadDeclaration, -1, "The network declares no layers: add [Stem(...)] and [Stage(...)] attributes after [Igcv2Network].");
        }

        // Walk the layers with the channels and size each one receives; an invalid layer passes on
        // what it declares, so later layers are still checked.
        var channels = spec.InputChannels;
        var size = spec.InputSize;
        var stage = 0;
        for (var index = 0; index < spec.Layers.Count; index++)
        {
            switch (spec.Layers[index])
            {
                case StemSpec stem:
                    if (index != 0)
                    {
                        Error(BadLayerOrder, index, "[Stem] must be the first layer attribute, and there can be only one.");
                    }
                    CheckRange(stem.Channels, "Stem channels", Shapes.MaxChannels, index, Error);
                    CheckStride(stem.Stride, index, Error);
                    channels = stem.Channels;
                    size = NextSize(size, stem.Stride);
                    break;

                case StageSpec st:
                    stage++;
                    CheckStage(st, stage, index, channels, size, Error, Warning);
                    channels = st.Channels;
                    size = NextSize(size, st.Stride);
                    break;

                case Igcv3StageSpec v3:
                    stage++;
                    CheckIgcv3Stage(v3, stage, index, channels, size, Error, Warning);
                    channels = v3.Channels;
                    size = NextSize(size, v3.Stride);
                    break;

                case ClassifierSpec head:
                    if (index != spec.Layers.Count - 1)
                    {
                        Error(BadLayerOrder, index, "[Classifier] must be the last layer attribute: it follows the global average pooling after the last stage.");
                    }
                    CheckClassifier(head, index, channels, spec.Classes, Error, Warning);
                    break;
            }
        }

        NetworkPlan? plan = null;
        if (!issues.Any(i => i.IsError))
        {
            try
            {
                plan = NetworkPlan.Build(spec);
                _ = plan.ParameterCount + plan.MultiplyAdds;
            }
            catch (OverflowException)
            {
                plan = null;
                Error(BadSize, -1, "The network is too large to count: its parameters or multiply-adds overflow a 64-bit integer.");
            }
        }

        return new ValidationResult(issues.ToEquatableArray(), plan);
    }

    private static int NextSize(int size, int stride) =>
        size >= 1 && (stride == 1 || stride == 2) ? Shapes.ConvolvedSize(size, stride) : size;

    private static void CheckRange(int value, string what, int max, int layer, IssueSink error)
    {
        if (value <= 0) error(BadSize, layer, Inv($"{what} is {value}: it must be positive."));
        else if (value > max) error(BadSize, layer, Inv($"{what} is {value}: at most {max} is supported."));
    }

    private static void CheckStride(int stride, int layer, IssueSink error)
    {
        if (stride != 1 && stride != 2) error(BadSize, layer, Inv($"Stride is {stride}: it must be 1 or 2."));
    }

    private static void CheckStage(
        StageSpec st, int stage, int index, int inChannels, int inSize,
        IssueSink error, IssueSink warning)
    {
        var where = Inv($"Stage {stage} ({st.Channels} channels)");
        var errorsBefore = 0;
        void Fail(string id, string message, int[]? suggestedK = null)
        {
            errorsBefore++;
            error(id, index, message, suggestedK);
        }

        CheckRange(st.Channels, where + ": channels", Shapes.MaxChannels, index, (id, _, m, _) => Fail(id, m));
        if (st.Blocks <= 0) Fail(BadSize, Inv($"{where}: Blocks is {st.Blocks}: it must be positive."));
        else if (st.Blocks > Shapes.MaxBlocks) Fail(BadSize, Inv($"{where}: Blocks is {st.Blocks}: at most {Shapes.MaxBlocks} are supported."));
        CheckStride(st.Stride, index, (id, _, m, _) => Fail(id, where + ": " + m));
        if (st.SkipEvery < 0) Fail(BadSize, Inv($"{where}: SkipEvery is {st.SkipEvery}: use 0 for no skips, or n > 0 for a skip every n blocks."));

        var k = st.K;
        if (k.Count < 2)
        {
            Fail(BadL, Inv($"{where}: K = {k} has {k.Count} group convolution(s); an IGCV2 block needs at least 2 (a 3x3 and a 1x1), e.g. K = [1, {Math.Max(1, st.Channels)}] (Xception)."));
        }
        if (st.L is { } l && l != k.Count)
        {
            Fail(BadL, Inv($"{where}: L = {l} but K = {k} lists {k.Count} group convolutions; L must equal K.Length."));
        }

        var badK = k.Where(x => x <= 0).ToArray();
        if (badK.Length > 0)
        {
            Fail(BadK, Inv($"{where}: K = {k} holds {string.Join(", ", badK.Select(x => x.ToString(CultureInfo.InvariantCulture)))}: channels per branch must be positive."));
        }
        if (errorsBefore > 0 || inChannels <= 0 || inChannels > Shapes.MaxChannels) return;

        var outChannels = st.Channels;
        var problems = Shapes.KProblems(inChannels, outChannels, st.Blocks, k, st.WidenFirst);
        if (problems.Count > 0)
        {
            var fits = Balance.SuggestComplementary(inChannels, outChannels, k.Count, ChannelWise(st, inChannels), st.S, st.WidenFirst);
            var hint = fits is { } s
                ? Inv($" K = {EquatableArray.Create(s)} fits.")
                : "";
            Fail(BadK, Inv($"{where}, K = {k}: {string.Join("; ", problems)}.{hint}"), fits);
            return;
        }
        if (inSize <= 0) return;

        CheckConnectivity(st, stage, index, inChannels, inSize, error, warning);
        CheckBalance(st, stage, index, inChannels, warning);
    }

    private static void CheckConnectivity(
        StageSpec st, int stage, int index, int inChannels, int inSize,
        IssueSink error, IssueSink warning)
    {
        var probe = st with { Blocks = 1, SkipEvery = 0 };
        var configs = new List<(string Blocks, int In, ConnectivityReport? Report)>();
        var first = Probe(probe, inChannels, inSize);
        configs.Add((st.Blocks == 1 || inChannels != st.Channels ? "block 1" : Inv($"blocks 1-{st.Blocks}"), inChannels, first));
        if (st.Blocks > 1 && inChannels != st.Channels)
        {
            configs.Add((st.Blocks == 2 ? "block 2" : Inv($"blocks 2-{st.Blocks}"), st.Channels, Probe(probe, st.Channels, inSize)));
        }

        var k = st.K;
        var product = k.Aggregate(1L, (p, x) => Connectivity.SaturatingMultiply(p, x));
        var suggestion = Balance.SuggestComplementary(inChannels, st.Channels, k.Count, ChannelWise(st, inChannels), st.S, st.WidenFirst);
        var fix = suggestion is null
            ? Inv($" No complementary K with L = {k.Count} exists for these widths.")
            : Inv($" K = {EquatableArray.Create(suggestion)} is complementary.");

        var tooLarge = configs.Where(c => c.Report is null).ToList();
        if (tooLarge.Count > 0)
        {
            error(BadSize, index, Inv($"Stage {stage} ({st.Channels} channels), K = {k}: the block is too wide to verify its connectivity at compile time (more than {Connectivity.WorkBudget} steps)."));
            return;
        }

        var sparse = configs.Where(c => !c.Report!.IsDense).ToList();
        if (sparse.Count > 0)
        {
            var parts = sparse.Select(c => Inv(
                $"{c.Blocks} ({c.In} -> {st.Channels}): each output channel reaches {Reached(c.Report!)} of {c.In} input channels (density {c.Report!.Density:0.00})"));
            var message = Inv($"Stage {stage} ({st.Channels} channels), K = {k}: prod(K) = {product} {Relation(product, st.Channels)} C = {st.Channels}, the composed kernel is not dense: {string.Join("; ", parts)}.{fix}");
            if (st.Loose) warning(NotDense, index, message + " Accepted because Loose = true.", suggestion);
            else error(NotDense, index, message + " Set Loose = true to accept a sparse composed kernel.", suggestion);
            return;
        }

        var redundant = configs.Where(c => !c.Report!.IsComplementary).ToList();
        if (redundant.Count > 0)
        {
            var parts = redundant.Select(c => Inv(
                $"{c.Blocks} ({c.In} -> {st.Channels}): some pairs are linked by {c.Report!.MaxPaths} paths where {c.Report.ComplementaryPaths} would do"));
            warning(Redundant, index, Inv($"Stage {stage} ({st.Channels} channels), K = {k}: prod(K) = {product} {Relation(product, st.Channels)} C = {st.Channels}, the composed kernel is dense but not complementary: {string.Join("; ", parts)}.{fix}"), suggestion);
        }
    }

    /// <summary>
    /// An IGCV3 stage: sizes (IGCV007), branch counts that divide the channels they group (IGCV003), and
    /// the composed 1x1 connectivity (IGCV001; expansion makes redundant paths by design, so no IGCV002).
    /// </summary>
    private static void CheckIgcv3Stage(
        Igcv3StageSpec st, int stage, int index, int inChannels, int inSize,
        IssueSink error, IssueSink warning)
    {
        var where = Inv($"Stage {stage} (IGCV3, {st.Channels} channels)");
        var failed = false;
        void Fail(string id, string message)
        {
            failed = true;
            error(id, index, message);
        }

        CheckRange(st.Channels, where + ": channels", Shapes.MaxChannels, index, (id, _, m, _) => Fail(id, m));
        if (st.Blocks <= 0 || st.Blocks > Shapes.MaxBlocks) Fail(BadSize, Inv($"{where}: Blocks is {st.Blocks}: it must be between 1 and {Shapes.MaxBlocks}."));
        CheckStride(st.Stride, index, (id, _, m, _) => Fail(id, where + ": " + m));
        if (st.Expansion <= 0) Fail(BadSize, Inv($"{where}: Expansion is {st.Expansion}: the expansion factor t must be at least 1."));
        if (st.G1 <= 0 || st.G2 <= 0) Fail(BadK, Inv($"{where}: G1 = {st.G1}, G2 = {st.G2}: branch counts must be positive."));
        if (failed || inChannels <= 0 || inChannels > Shapes.MaxChannels) return;

        var problems = new List<string>();
        foreach (var c in st.Blocks > 1 ? new[] { inChannels, st.Channels } : new[] { inChannels })
        {
            var hidden = (long)c * st.Expansion;
            if (hidden > Shapes.MaxChannels) problems.Add(Inv($"the expanded width {c} x {st.Expansion} = {hidden} exceeds {Shapes.MaxChannels}"));
            else if (c % st.G1 != 0) problems.Add(Inv($"G1 = {st.G1} branches do not divide the {c} input channels"));
            else if (hidden % st.G2 != 0 || st.Channels % st.G2 != 0) problems.Add(Inv($"G2 = {st.G2} branches do not divide both the {hidden} expanded and the {st.Channels} output channels"));
        }
        if (problems.Count > 0)
        {
            Fail(problems[0].Contains("exceeds") ? BadSize : BadK, Inv($"{where}: {string.Join("; ", problems.Distinct())}."));
            return;
        }
        if (inSize <= 0) return;

        var probe = new Igcv3StageSpec(st.Channels, 1, st.Expansion, st.G1, st.G2, st.Stride, st.Nonlinear, st.Loose);
        foreach (var (blocks, c) in st.Blocks > 1 && inChannels != st.Channels
            ? new[] { ("block 1", inChannels), (Inv($"blocks 2-{st.Blocks}"), st.Channels) }
            : new[] { (st.Blocks == 1 ? "block 1" : Inv($"blocks 1-{st.Blocks}"), inChannels) })
        {
            var report = Probe(probe, c, inSize);
            if (report is null)
            {
                error(BadSize, index, Inv($"{where}: the block is too wide to verify its connectivity at compile time."));
                return;
            }
            if (report.IsDense) continue;
            var message = Inv($"{where}, G1 = {st.G1}, G2 = {st.G2}: {blocks} ({c} -> {st.Channels}): each output channel reaches {Reached(report)} of {c} input channels (density {report.Density:0.00}), the composed kernel is not dense.");
            if (st.Loose) warning(NotDense, index, message + " Accepted because Loose = true.");
            else error(NotDense, index, message + " Fewer branches (e.g. G1 = G2 = 2 with the interleaving permutation) make it dense; or set Loose = true.");
        }
    }

    /// <summary>
    /// The IGCV2* head (Table 8): at least two 1x1 group convolutions (IGCV004), each K_l dividing the pooled
    /// C and the last one's branches dividing the classes (IGCV003), and a dense composed map C -> classes
    /// (IGCV001; IGCV002 when some pair has more than one path). Messages name the complementary K with the
    /// fewest weights, computed only when one is written.
    /// </summary>
    private static void CheckClassifier(
        ClassifierSpec head, int index, int channels, int classes,
        IssueSink error, IssueSink warning)
    {
        if (!head.IsGrouped) return;
        var k = head.K;
        var where = Inv($"Classifier ({channels} -> {classes}), K = {k}");
        int[]? suggested = null;
        string Fix()
        {
            var l = Math.Max(2, k.Count);
            var suggestion = suggested = channels > 0 && classes > 0 ? Balance.SuggestComplementaryHead(channels, classes, l) : null;
            return suggestion is null
                ? Inv($" No complementary K with L = {l} exists for {channels} -> {classes}.")
                : Inv($" K = {EquatableArray.Create(suggestion)} is complementary with the fewest weights.");
        }

        if (k.Count < 2)
        {
            error(BadL, index, Inv($"{where}: a grouped head needs at least 2 group convolutions: one alone is either the fully connected layer (K = [{channels}]) or leaves each class blind to most channels. Leave K out for a fully connected layer.{Fix()}"), suggested);
            return;
        }
        if (channels <= 0 || channels > Shapes.MaxChannels || classes <= 0 || classes > Shapes.MaxChannels) return;

        var problems = new List<string>();
        for (var l = 0; l < k.Count; l++)
        {
            if (k[l] <= 0) problems.Add(Inv($"K_{l + 1} = {k[l]} is not positive"));
            else if (k[l] > channels || channels % k[l] != 0) problems.Add(Inv($"K_{l + 1} = {k[l]} does not divide the {channels} pooled channels"));
        }
        if (problems.Count == 0 && classes % (channels / k[k.Count - 1]) != 0)
        {
            problems.Add(Inv($"the last convolution has {channels / k[k.Count - 1]} branches ({channels}/K_{k.Count}), which do not divide the {classes} classes"));
        }
        if (problems.Count > 0)
        {
            error(BadK, index, Inv($"{where}: {string.Join("; ", problems)}.{Fix()}"), suggested);
            return;
        }

        var plan = ClassifierPlan.Create(channels, classes, 1, k);
        var report = Connectivity.Analyze(plan.Convs, plan.Permutations.Append(new PermutationPlan(classes, 1)).ToList());
        if (report is null)
        {
            error(BadSize, index, Inv($"{where}: the head is too wide to verify its connectivity at compile time (more than {Connectivity.WorkBudget} steps)."));
            return;
        }
        if (!report.IsDense)
        {
            var message = Inv($"{where}: each class reaches {Reached(report)} of {channels} pooled channels (density {report.Density:0.00}), the composed map is not dense.{Fix()}");
            if (head.Loose) warning(NotDense, index, message + " Accepted because Loose = true.", suggested);
            else error(NotDense, index, message + " Set Loose = true to accept a sparse head.", suggested);
            return;
        }
        // Each class reads prod(K) paths in all, so complementary means exactly one per pair, even with more
        // classes than channels (no widening allowance as in a block).
        if (report.MaxPaths > 1)
        {
            warning(Redundant, index, Inv($"{where}: the composed map is dense but not complementary: some pairs are linked by {report.MaxPaths} paths where 1 would do (the paper's loose condition).{Fix()}"), suggested);
        }
    }

    /// <summary>
    /// Whether suggestions keep K_1 = 1 (a channel-wise 3x3): when the stage declares one, unless its first
    /// convolution changes the width (WidenFirst), which a channel-wise convolution cannot do.
    /// </summary>
    private static bool ChannelWise(StageSpec st, int inChannels) =>
        st.K.Count > 0 && st.K[0] == 1 && st.Spatial && !(st.WidenFirst && inChannels != st.Channels);

    private static string Relation(long a, long b) => a < b ? "<" : a == b ? "=" : ">";

    private static long Reached(ConnectivityReport report) => report.PairsReached / report.OutChannels;

    /// <summary>The connectivity of the first block of a one-block stage fed <paramref name="inChannels"/> channels.</summary>
    private static ConnectivityReport? Probe(LayerSpec probe, int inChannels, int inSize)
    {
        var network = new NetworkSpec(inChannels, inSize, 1, EquatableArray.Create<LayerSpec>(probe));
        var block = NetworkPlan.Build(network).Blocks[0];
        return Connectivity.Analyze(block.Convs, block.Permutations);
    }

    private static void CheckBalance(StageSpec st, int stage, int index, int inChannels, IssueSink warning)
    {
        var k = st.K;
        if (!Balance.IsFarFromBalance(k, st.S)) return;

        var channelWise = k[0] == 1 && st.Spatial;
        var terms = Balance.Terms(k, st.S);
        var termText = (channelWise ? "K_2..K_L" : st.Spatial ? "S*K_1, K_2..K_L" : "K_1..K_L (all 1x1, S = 1)") + " = [" + string.Join(", ", terms.Select(t => t.ToString(CultureInfo.InvariantCulture))) + "]";
        var message = Inv($"Stage {stage} ({st.Channels} channels), K = {k}: far from the balance condition (paper eq. 11: {(channelWise ? "K_2 = ... = K_L" : "S*K_1 = K_2 = ... = K_L")}), {termText}, largest more than twice the smallest.");

        var balanced = Balance.SuggestComplementary(inChannels, st.Channels, k.Count, ChannelWise(st, inChannels), st.S, st.WidenFirst);
        if (balanced is { } suggestion)
        {
            var saved = Balance.Weights(st.Channels, k, st.S) - Balance.Weights(st.Channels, suggestion, st.S);
            var best = EquatableArray.Create(suggestion);
            message += saved > 0
                ? Inv($" K = {best} is complementary, as balanced as C = {st.Channels} allows, and saves {saved} weights per block.")
                : Inv($" K = {best} is the complementary choice with the fewest weights.");
        }

        var optimalL = Balance.OptimalL(st.Channels, channelWise, st.S);
        if (Math.Abs(k.Count - optimalL) > 1.5)
        {
            message += Inv($" The paper's optimal L (eq. 14) for C = {st.Channels} is about {optimalL:0.0}{(channelWise ? " (1 + ln C with a channel-wise first convolution)" : " (ln(S*C))")}; this stage has L = {k.Count}.");
        }
        warning(Unbalanced, index, message, balanced);
    }

    private static string Inv(FormattableString text) => FormattableString.Invariant(text);
}
