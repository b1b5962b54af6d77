using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Igcv2.Design;

/// <summary>How the steps of one <see cref="Pass"/> run.</summary>
public enum PassKind
{
    /// <summary>One step, its own kernel (a convolution, BN, pooling, the classifier, the bias, the loss).</summary>
    Step,

    /// <summary>
    /// The activation, P_l and the skip's add after a BN as one pass from a scratch buffer into the output (a block's
    /// output is always written so, even when P_L is the identity); backward, the mirror image in one pass.
    /// </summary>
    Epilogue,

    /// <summary>Activations (and identity permutations) only: BN writes the output, the activation runs in place.</summary>
    InPlace,
}

/// <summary>What a buffer holds.</summary>
public enum BufferRole
{
    /// <summary>A forward value that backward reads again (a convolution's output for BN's backward, a step's output for W_l's and the activation's).</summary>
    Activation,

    /// <summary>
    /// A forward value that backward never reads: BN's output before the epilogue (dies within its pass group), and a
    /// 1x1 convolution's recomputed input (<see cref="Pass.InputRecomputed"/>). One per shape and kind, shared.
    /// </summary>
    Scratch,

    /// <summary>
    /// A forward value that backward reads but recomputes rather than keeps: a cheap convolution's output (IGCV2's W_1
    /// and W_2), rewritten just before its first backward reader (<see cref="Pass.OutputRecomputed"/>,
    /// <see cref="Pass.Recompute"/>). One per l and shape, shared.
    /// </summary>
    Recomputed,

    /// <summary>A gradient: reused by shape once the value it held is dead.</summary>
    Gradient,

    /// <summary>Another buffer's memory as a 1x1 map ([n, C] as [n, C, 1, 1]).</summary>
    View,
}

/// <summary>
/// One buffer, [n, <see cref="Channels"/>, <see cref="Size"/>, <see cref="Size"/>] or [n, <see cref="Channels"/>] when
/// <see cref="Size"/> is 0. It is live from schedule position <see cref="Start"/> (its first write) to <see cref="End"/>
/// (its last read): forward pass i is position i, its backward position 2P - 1 - i (<see cref="BufferPlan.Backward"/>).
/// </summary>
public sealed record PlannedBuffer(string Name, int Channels, int Size, BufferRole Role, string? ViewOf, int Start, int End);

/// <summary>
/// Steps <see cref="First"/> .. <see cref="First"/> + <see cref="Count"/> - 1 run as one pass: forward from
/// <see cref="Input"/> (and <see cref="Skip"/>) into <see cref="Output"/>; backward from the gradient of the output
/// (<see cref="GradOutput"/>) into that of the input (<see cref="GradInput"/>) and of the skip (<see cref="GradSkip"/>).
/// When the input already holds a gradient from its other consumer (the skip), <see cref="Accumulate"/> names that
/// earlier share, added into <see cref="GradInput"/> after the pass. Buffer names are <see cref="BufferPlan.Buffers"/>'
/// names, "Input" (the model's input), "gradLogits" (the loss gradient Backward is given) and "gradLogitsMap" (its 1x1 map).
/// <para>
/// <see cref="BackwardInNorm"/>: this pass (an epilogue, or an in-place activation) follows the BN step that writes its
/// input, and its backward runs inside that BN's backward, one op (Ops.ActivationShuffleBatchNormBackward): the
/// gradient between the two is never stored. Such an epilogue has no <see cref="GradInput"/>, and the BN's pass reads
/// this pass's <see cref="GradOutput"/> as its own.
/// </para>
/// <para>
/// <see cref="InputRecomputed"/>: a 1x1 convolution whose input is P(BN(c)) with nothing else between them (IGCV2's W_2
/// and W_3). That input lives in a buffer shared by shape for the forward only; backward computes the weight gradient
/// from c and BN's saved statistics (Ops.BatchNormShuffleConv2dBackwardWeight), so it is never kept for backward.
/// </para>
/// <para>
/// <see cref="OutputRecomputed"/>: a convolution W_l of at most <see cref="BufferPlan.RecomputedMultiplyAdds"/>
/// multiply-adds an element (IGCV2's channel-wise 3x3 W_1, and a 1x1 W_2 of K_2 &lt;= 9) whose output c_l only BN_l
/// reads, and BN_l's output only a 1x1 W_{l+1} that recomputes its input (<see cref="InputRecomputed"/>); its own
/// input is kept, or recomputed the same way. Then c_l is not kept: it lives in a buffer shared by l and shape, and
/// the backward of the first pass that needs it again (<see cref="Recompute"/>: W_3's for c_2, which needs c_1 first)
/// runs W_l again, from its input (a W_1's input backward keeps anyway, for W_1's weight gradient) or from
/// BN_{l-1}'s saved statistics. The same ops on the same values: the same numbers as a kept c_l.
/// </para>
/// </summary>
public sealed record Pass(
    PassKind Kind,
    int First,
    int Count,
    string Input,
    string? Skip,
    string Output,
    string? GradOutput,
    string? GradInput,
    string? GradSkip,
    string? Accumulate,
    bool BackwardInNorm = false,
    bool InputRecomputed = false,
    bool OutputRecomputed = false,
    EquatableArray<int> Recompute = default)
{
    public int Last => First + Count - 1;
}

/// <summary>
/// Buffer planning, a pass over the lowered steps: which steps run as one pass, which buffer holds each value, how
/// gradients reuse buffers by shape once dead, and every buffer's lifetime. The generator prints from it; tests
/// check that no two live values share a buffer.
/// </summary>
public sealed record BufferPlan(
    EquatableArray<Pass> Passes,
    EquatableArray<PlannedBuffer> Buffers,
    EquatableArray<string> ValueBuffers,
    string InputGradient,
    bool InputGradientDirect)
{
    public const string ModelInput = "Input";
    public const string LossGradient = "gradLogits";
    public const string LossGradientMap = "gradLogitsMap";
    public const string InputGradientBuffer = "input_grad";

    /// <summary>The shared buffers of recomputed convolution inputs are named this, then the shape ("normalized_64x32").</summary>
    public const string NormalizedPrefix = "normalized_";

    /// <summary>The shared buffers of recomputed convolution outputs (<see cref="BufferRole.Recomputed"/>) are named this, then c_l and the shape ("recomputed_c1_64x32").</summary>
    public const string RecomputedPrefix = "recomputed_";

    /// <summary>
    /// The most multiply-adds an output element may cost for backward to recompute it rather than keep it: a channel-wise
    /// 3x3's 9, so IGCV2's W_1 and a W_2 of K_2 &lt;= 9 (C64's 8) are recomputed; K_2 = 16 or a dense 1x1 are kept.
    /// </summary>
    public const int RecomputedMultiplyAdds = 9;

    /// <summary>The schedule position of pass <paramref name="pass"/>'s backward.</summary>
    public int Backward(int pass) => 2 * Passes.Count - 1 - pass;

    public PlannedBuffer Buffer(string name) => Buffers.First(b => b.Name == name);

    /// <summary>
    /// Plans <paramref name="steps"/>' buffers; with <paramref name="recompute"/> (<see cref="NetworkSpec.Recompute"/>),
    /// backward recomputes cheap convolutions' outputs where that saves memory (<see cref="Pass.OutputRecomputed"/>),
    /// else keeps them all.
    /// </summary>
    public static BufferPlan For(NetworkSteps steps, bool recompute = true) => new Planner(steps, recompute).Plan();

    /// <summary>"stage1.block1" -> "stage1_block1": a layer's name as a C# identifier.</summary>
    public static string Field(string name) => name.Replace('.', '_');

    private static string Key(int channels, int size) =>
        channels.ToString(CultureInfo.InvariantCulture) + "x" + size.ToString(CultureInfo.InvariantCulture);

    private static bool IsElementwise(StepKind kind) => kind is StepKind.Activation or StepKind.Permutation or StepKind.SkipAdd;

    private sealed class Planner
    {
        private readonly NetworkSteps lowered;
        private readonly EquatableArray<Step> steps;
        private readonly List<(PassKind Kind, int First, int Count)> groups = new();
        private readonly string[] valueBuffer;
        private readonly List<string> order = new();
        private readonly Dictionary<string, (int Channels, int Size, BufferRole Role, string? ViewOf, int Start, int End)> buffers = new();
        private readonly Dictionary<string, Stack<string>> free = new();
        private readonly Dictionary<string, int> rented = new();

        private readonly bool recompute;

        public Planner(NetworkSteps lowered, bool recompute)
        {
            this.lowered = lowered;
            this.recompute = recompute;
            steps = lowered.Steps;
            valueBuffer = new string[lowered.Values.Count];
        }

        public BufferPlan Plan()
        {
            Group();
            ChooseRecomputed();
            valueBuffer[NetworkSteps.InputValue] = ModelInput;
            for (var p = 0; p < groups.Count; p++) AssignForward(p);

            var passes = new Pass[groups.Count];
            var gradOf = new string?[lowered.Values.Count];
            gradOf[lowered.Logits.Id] = LossGradient;
            for (var p = groups.Count - 1; p >= 0; p--) passes[p] = AssignBackward(p, gradOf);

            var input = gradOf[NetworkSteps.InputValue] ?? throw new InvalidOperationException("The input gets no gradient.");
            var direct = input == InputGradientBuffer;
            if (!direct)
            {
                var value = lowered.Value(NetworkSteps.InputValue);
                Declare(InputGradientBuffer, value.Channels, value.Size, BufferRole.Gradient, null, Backward(0));
            }
            return new BufferPlan(
                passes.ToEquatableArray(),
                order.Select(name => { var b = buffers[name]; return new PlannedBuffer(name, b.Channels, b.Size, b.Role, b.ViewOf, b.Start, b.End); }).ToEquatableArray(),
                valueBuffer.Select(b => b ?? "").ToEquatableArray(),
                input,
                direct);
        }

        private int Backward(int pass) => 2 * groups.Count - 1 - pass;

        /// <summary>Runs of elementwise steps, each reading the one before, form one pass; every other step is its own.</summary>
        private void Group()
        {
            for (var i = 0; i < steps.Count; i++)
            {
                var first = steps[i];
                if (!IsElementwise(first.Kind))
                {
                    groups.Add((PassKind.Step, i, 1));
                    continue;
                }
                var last = i;
                while (last + 1 < steps.Count && IsElementwise(steps[last + 1].Kind) && steps[last + 1].Input == steps[last].Output) last++;
                var run = Enumerable.Range(i, last - i + 1).Select(j => steps[j]).ToList();
                var endsBlock = run.Any(s => s.Kind == StepKind.Permutation) && (last + 1 == steps.Count || steps[last + 1].Layer != first.Layer);
                var moves = endsBlock || run.Any(s => s.Kind == StepKind.SkipAdd || s.Permutation is { IsIdentity: false });
                groups.Add((moves ? PassKind.Epilogue : PassKind.InPlace, i, run.Count));
                i = last;
            }
        }

        private int GroupReading(int value)
        {
            for (var p = 0; p < groups.Count; p++)
            {
                for (var i = groups[p].First; i < groups[p].First + groups[p].Count; i++)
                {
                    if (steps[i].Input == value || steps[i].Skip == value) return p;
                }
            }
            return -1;
        }

        private Step First(int p) => steps[groups[p].First];

        /// <summary>
        /// Whether pass <paramref name="p"/> is a 1x1 convolution whose input is P(BN(c)) straight from the two passes
        /// before it (BN, then a permutation run with no activation and no skip) and read by nothing else, so that its
        /// backward can recompute that input from c and BN's saved statistics instead of keeping it.
        /// </summary>
        private bool RecomputesInput(int p)
        {
            if (p < 2 || groups[p].Kind != PassKind.Step || First(p) is not { Kind: StepKind.Convolution, OnSkipPath: false, Conv.KernelSize: 1 } conv) return false;
            if (First(p - 2).Layer != conv.Layer) return false;
            var (runKind, runFirst, runCount) = groups[p - 1];
            if (runKind == PassKind.Step || !FollowsItsNorm(p - 1)) return false;
            for (var i = runFirst; i < runFirst + runCount; i++)
            {
                if (steps[i].Kind != StepKind.Permutation) return false;
            }
            var value = steps[runFirst + runCount - 1].Output;
            return conv.Input == value && Readers(value) == 1;
        }

        /// <summary>How many steps read <paramref name="value"/>, as their input or their skip.</summary>
        private int Readers(int value)
        {
            var readers = 0;
            foreach (var step in steps)
            {
                if (step.Input == value || step.Skip == value) readers++;
            }
            return readers;
        }

        /// <summary>Whether the pass before <paramref name="p"/> is the (main path) BN step whose output <paramref name="p"/> reads.</summary>
        private bool FollowsItsNorm(int p) =>
            p > 0 && groups[p - 1].Kind == PassKind.Step && First(p - 1) is { Kind: StepKind.BatchNorm, OnSkipPath: false } norm
            && First(p).Input == norm.Output;

        /// <summary>
        /// Whether pass <paramref name="p"/> is a cheap (main path) convolution whose output only the BN after it reads,
        /// with that BN's output the input a 1x1 W recomputes (<see cref="RecomputesInput"/>), so that backward can run
        /// it again instead of keeping its output.
        /// </summary>
        private bool CanRecomputeOutput(int p)
        {
            if (groups[p].Kind != PassKind.Step || First(p) is not { Kind: StepKind.Convolution, OnSkipPath: false, Conv: { } geometry } conv) return false;
            if (geometry.K * geometry.KernelSize * geometry.KernelSize > RecomputedMultiplyAdds) return false;
            if (p + 3 >= groups.Count || !RecomputesInput(p + 3) || First(p + 1) is not { Kind: StepKind.BatchNorm } norm || norm.Input != conv.Output) return false;
            // Its input is always there to recompute from: kept for this convolution's weight gradient, or P(BN(c))
            // of a c that BN's backward needs (kept, or recomputed first).
            return Readers(conv.Output) == 1;
        }

        /// <summary>
        /// Whether backward recomputes pass <paramref name="p"/>'s output (<see cref="Pass.OutputRecomputed"/>): it can
        /// (<see cref="CanRecomputeOutput"/>), and another pass's output of the same l and shape can too, so the shared
        /// buffer replaces two or more (one would replace one, for the recompute's time and no memory).
        /// </summary>
        private bool RecomputesOutput(int p) => recomputesOutput[p];

        /// <summary><see cref="RecomputesOutput"/> of every pass, decided once the passes are grouped.</summary>
        private bool[] recomputesOutput = [];

        private void ChooseRecomputed()
        {
            recomputesOutput = new bool[groups.Count];
            if (!recompute) return;
            var sharing = Enumerable.Range(0, groups.Count).Where(CanRecomputeOutput).GroupBy(RecomputedName).Where(g => g.Count() >= 2);
            foreach (var p in sharing.SelectMany(g => g)) recomputesOutput[p] = true;
        }

        /// <summary>The shared buffer of a recomputed output: "recomputed_c1_64x32".</summary>
        private string RecomputedName(int p)
        {
            var s = First(p);
            var value = lowered.Value(s.Output);
            return RecomputedPrefix + "c" + s.L.ToString(CultureInfo.InvariantCulture) + "_" + Key(value.Channels, value.Size);
        }

        /// <summary>Recomputed values (by id) that backward has rewritten so far: a later reader finds them in place.</summary>
        private readonly HashSet<int> rewritten = new();

        /// <summary>
        /// The passes to run again, in order, before a backward pass reads <paramref name="value"/>: none when it is kept
        /// or already rewritten, else its producer, after whatever that producer's input needs.
        /// </summary>
        private List<int> Rerun(int value)
        {
            var order = new List<int>();
            var producer = -1;
            for (var q = 0; q < groups.Count && producer < 0; q++)
            {
                if (groups[q].Kind == PassKind.Step && First(q).Output == value && RecomputesOutput(q)) producer = q;
            }
            if (producer < 0 || !rewritten.Add(value)) return order;
            if (RecomputesInput(producer)) order.AddRange(Rerun(First(producer - 2).Input));
            order.Add(producer);
            return order;
        }

        private Step LastStep(int p) => steps[groups[p].First + groups[p].Count - 1];

        /// <summary>The value a pass adds as its skip, or -1.</summary>
        private int SkipOf(int p)
        {
            for (var i = groups[p].First; i < groups[p].First + groups[p].Count; i++)
            {
                if (steps[i].Skip >= 0) return steps[i].Skip;
            }
            return -1;
        }

        /// <summary>The buffer an epilogue writes: the block's output, or the next step's input.</summary>
        private string RunOutput(int p)
        {
            var last = groups[p].First + groups[p].Count - 1;
            var step = steps[last];
            var endsLayer = last + 1 == steps.Count || steps[last + 1].Layer != step.Layer;
            return Field(step.Layer) + (endsLayer ? "_out" : "_in" + (step.L + 1).ToString(CultureInfo.InvariantCulture));
        }

        private void AssignForward(int p)
        {
            var (kind, firstIndex, count) = groups[p];
            var s = First(p);
            var output = LastStep(p).Output;
            var value = output >= 0 ? lowered.Value(output) : null;
            Read(valueBuffer[s.Input], p);
            if (SkipOf(p) is var skip && skip >= 0) Read(valueBuffer[skip], p);
            switch (kind)
            {
                case PassKind.Epilogue:
                case PassKind.InPlace:
                {
                    // In place: the buffer BN wrote (see the BatchNorm case); an epilogue: the next step's input or the block's output.
                    var name = kind == PassKind.InPlace ? valueBuffer[s.Input] : RunOutput(p);
                    if (kind == PassKind.InPlace)
                    {
                        // BN wrote the output already (see the BatchNorm case): every value of the run lives there.
                        for (var i = firstIndex; i < firstIndex + count; i++) valueBuffer[steps[i].Output] = name;
                        Write(name, p);
                    }
                    else if (p + 1 < groups.Count && RecomputesInput(p + 1))
                    {
                        name = NormalizedPrefix + Key(value!.Channels, value.Size);
                        Declare(name, value.Channels, value.Size, BufferRole.Scratch, null, p);
                        valueBuffer[output] = name;
                    }
                    else
                    {
                        Declare(name, value!.Channels, value.Size, BufferRole.Activation, null, p);
                        valueBuffer[output] = name;
                    }
                    return;
                }
            }
            switch (s.Kind)
            {
                case StepKind.Convolution:
                {
                    var reader = GroupReading(output);
                    if (reader >= 0 && First(reader).Kind == StepKind.Bias)
                    {
                        Declare("logits", value!.Channels, 0, BufferRole.Activation, null, p);
                        Declare("logits_map", value.Channels, 1, BufferRole.View, "logits", p);
                        valueBuffer[output] = "logits_map";
                        return;
                    }
                    if (RecomputesOutput(p))
                    {
                        var shared = RecomputedName(p);
                        Declare(shared, value!.Channels, value.Size, BufferRole.Recomputed, null, p);
                        valueBuffer[output] = shared;
                        return;
                    }
                    var field = Field(s.Layer);
                    var name = s.OnSkipPath ? field + "_sc" : s.L == 0 ? field + "_c" : field + "_c" + s.L.ToString(CultureInfo.InvariantCulture);
                    Declare(name, value!.Channels, value.Size, BufferRole.Activation, null, p);
                    valueBuffer[output] = name;
                    return;
                }
                case StepKind.BatchNorm:
                {
                    var reader = GroupReading(output);
                    string name;
                    if (reader >= 0 && groups[reader].Kind == PassKind.InPlace)
                    {
                        var recomputed = reader + 1 < groups.Count && RecomputesInput(reader + 1);
                        name = recomputed ? NormalizedPrefix + Key(value!.Channels, value.Size) : RunOutput(reader);
                        Declare(name, value!.Channels, value.Size, recomputed ? BufferRole.Scratch : BufferRole.Activation, null, p);
                    }
                    else
                    {
                        // Read only by the epilogue pass right after it; the projected skip's BN lives beside the main one.
                        name = (s.OnSkipPath ? "scratch2_" : "scratch_") + Key(value!.Channels, value.Size);
                        Declare(name, value.Channels, value.Size, BufferRole.Scratch, null, p);
                    }
                    valueBuffer[output] = name;
                    return;
                }
                case StepKind.GlobalAveragePool:
                {
                    Declare("pooled", value!.Channels, 0, BufferRole.Activation, null, p);
                    var reader = GroupReading(output);
                    if (reader >= 0 && First(reader).Kind == StepKind.Convolution)
                    {
                        Declare("pooled_map", value.Channels, 1, BufferRole.View, "pooled", p);
                        valueBuffer[output] = "pooled_map";
                    }
                    else
                    {
                        valueBuffer[output] = "pooled";
                    }
                    return;
                }
                case StepKind.Linear:
                    Declare("logits", value!.Channels, 0, BufferRole.Activation, null, p);
                    valueBuffer[output] = "logits";
                    return;
                case StepKind.Bias:
                    Write("logits", p);
                    valueBuffer[output] = "logits";
                    return;
                case StepKind.Loss:
                    return;
                default:
                    throw new NotSupportedException("No buffer rule for a " + s.Kind + " step.");
            }
        }

        private Pass AssignBackward(int p, string?[] gradOf)
        {
            var (kind, firstIndex, count) = groups[p];
            var s = First(p);
            var output = LastStep(p).Output;
            var at = Backward(p);
            var forwardInput = valueBuffer[s.Input];
            var skip = SkipOf(p);
            var forwardSkip = skip >= 0 ? valueBuffer[skip] : null;
            var forwardOutput = output >= 0 ? valueBuffer[output] : "";
            var recomputed = s.Kind == StepKind.Convolution && RecomputesInput(p);
            // Backward reads these forward values: the ones recomputed and not yet rewritten are rewritten first.
            var rerun = new List<int>();
            if (recomputed) rerun.AddRange(Rerun(First(p - 2).Input));
            if (s.Kind == StepKind.BatchNorm) rerun.AddRange(Rerun(s.Input));
            Pass Result(string? gOut, string? gIn, string? gSkip = null, string? accumulate = null, bool inNorm = false) =>
                new(kind, firstIndex, count, forwardInput, forwardSkip, forwardOutput, gOut, gIn, gSkip, accumulate, inNorm, recomputed,
                    RecomputesOutput(p), rerun.ToEquatableArray());
            foreach (var r in rerun)
            {
                // The pass runs again, from its input (or the BN input its input is recomputed from), into its output's buffer.
                Read(RecomputesInput(r) ? valueBuffer[First(r - 2).Input] : valueBuffer[First(r).Input], at);
                Write(valueBuffer[First(r).Output], at);
            }

            if (s.Kind == StepKind.Loss) return Result(null, gradOf[s.Input]);
            var gradOutput = gradOf[output] ?? throw new InvalidOperationException($"No gradient reaches {lowered.Value(output).Name}.");
            Read(gradOutput, at);

            // The activation's derivative reads the output (a permutation and a skip's add alone do not).
            var activates = Enumerable.Range(firstIndex, count).Any(i => steps[i].Kind == StepKind.Activation);
            if (kind == PassKind.InPlace)
            {
                // The gradient is rewritten where it is.
                if (activates) Read(forwardOutput, at);
                gradOf[s.Input] = gradOutput;
                return Result(gradOutput, gradOutput, inNorm: activates && FollowsItsNorm(p));
            }
            if (kind == PassKind.Epilogue)
            {
                if (activates) Read(forwardOutput, at);
                if (FollowsItsNorm(p) && (skip < 0 || gradOf[skip] is null))
                {
                    // act', the skip's share and P_l^-1 run inside BN's backward: the output's gradient stays live
                    // until BN's pass has written its input's, and the gradient between them gets no buffer.
                    var share = skip >= 0 ? Rent(skip, at) : null;
                    if (share is not null) gradOf[skip] = share;
                    gradOf[s.Input] = gradOutput;
                    return Result(gradOutput, null, share, inNorm: true);
                }
                var gIn = Rent(s.Input, at);
                var gSkip = skip >= 0 ? Rent(skip, at) : null;
                Return(gradOutput);
                var accumulate = Contribute(gradOf, s.Input, gIn);
                if (gSkip is not null) accumulate ??= Contribute(gradOf, skip, gSkip);
                return Result(gradOutput, gIn, gSkip, accumulate);
            }

            switch (s.Kind)
            {
                case StepKind.Linear:
                {
                    Read(forwardInput, at);
                    var value = lowered.Value(s.Input);
                    Declare("grad_pooled", value.Channels, 0, BufferRole.Gradient, null, at);
                    gradOf[s.Input] = "grad_pooled";
                    return Result(gradOutput, "grad_pooled");
                }
                case StepKind.Bias:
                    gradOf[s.Input] = LossGradientMap;
                    return Result(gradOutput, LossGradientMap);
                case StepKind.GlobalAveragePool:
                {
                    var source = buffers.ContainsKey(gradOutput) && buffers[gradOutput].ViewOf is { } of ? of : gradOutput;
                    var gIn = Rent(s.Input, at);
                    return Result(source, gIn, accumulate: Contribute(gradOf, s.Input, gIn));
                }
                case StepKind.Convolution:
                {
                    // The weight gradient reads the input, or (recomputed) the BN input it is computed from.
                    Read(recomputed ? valueBuffer[First(p - 2).Input] : forwardInput, at);
                    string gIn;
                    var inputProducer = steps.FirstOrDefault(x => x.Output == s.Input);
                    if (s.Input == NetworkSteps.InputValue && s.Layer == "stem")
                    {
                        // Written only when asked (ComputeInputGradient): the stem's convolution writes it directly.
                        var value = lowered.Value(s.Input);
                        gIn = InputGradientBuffer;
                        Declare(gIn, value.Channels, value.Size, BufferRole.Gradient, null, at);
                    }
                    else if (inputProducer is { Kind: StepKind.GlobalAveragePool })
                    {
                        var value = lowered.Value(s.Input);
                        Declare("grad_pooled", value.Channels, 0, BufferRole.Gradient, null, at);
                        Declare("grad_pooled_map", value.Channels, 1, BufferRole.View, "grad_pooled", at);
                        gIn = "grad_pooled_map";
                    }
                    else
                    {
                        gIn = Rent(s.Input, at);
                    }
                    Return(gradOutput);
                    return Result(gradOutput, gIn, accumulate: Contribute(gradOf, s.Input, gIn));
                }
                case StepKind.BatchNorm:
                {
                    Read(forwardInput, at);
                    var gIn = Rent(s.Input, at);
                    Return(gradOutput);
                    return Result(gradOutput, gIn, accumulate: Contribute(gradOf, s.Input, gIn));
                }
                default:
                    throw new NotSupportedException("No backward rule for a " + s.Kind + " step.");
            }
        }

        /// <summary>
        /// <paramref name="gradient"/> is a share of <paramref name="value"/>'s gradient. The first share is the gradient;
        /// a second (the value is also a skip's source) is added into the first one's pending buffer: returns that buffer.
        /// </summary>
        private string? Contribute(string?[] gradOf, int value, string gradient)
        {
            var pending = gradOf[value];
            gradOf[value] = gradient;
            if (pending is null) return null;
            Return(pending);
            return pending;
        }

        /// <summary>A gradient buffer of the value's shape that holds no live gradient (the pool grows as needed).</summary>
        private string Rent(int value, int at)
        {
            var v = lowered.Value(value);
            var key = Key(v.Channels, v.Size);
            string name;
            if (free.TryGetValue(key, out var stack) && stack.Count > 0)
            {
                name = stack.Pop();
                Write(name, at);
            }
            else
            {
                rented.TryGetValue(key, out var n);
                rented[key] = n + 1;
                name = "grad_" + key + "_" + (char)('a' + n);
                Declare(name, v.Channels, v.Size, BufferRole.Gradient, null, at);
            }
            return name;
        }

        private void Return(string name)
        {
            if (!buffers.ContainsKey(name) || buffers[name].Role != BufferRole.Gradient || !name.StartsWith("grad_", StringComparison.Ordinal) || name == "grad_pooled") return;
            var key = name.Substring("grad_".Length, name.LastIndexOf('_') - "grad_".Length);
            if (!free.TryGetValue(key, out var stack)) free[key] = stack = new Stack<string>();
            stack.Push(name);
        }

        private void Declare(string name, int channels, int size, BufferRole role, string? viewOf, int at)
        {
            if (buffers.ContainsKey(name))
            {
                Write(name, at);
                return;
            }
            order.Add(name);
            buffers[name] = (channels, size, role, viewOf, at, at);
        }

        private void Write(string name, int at) => Touch(name, at);

        private void Read(string? name, int at) => Touch(name, at);

        private void Touch(string? name, int at)
        {
            if (name is null || !buffers.TryGetValue(name, out var b)) return;
            buffers[name] = (b.Channels, b.Size, b.Role, b.ViewOf, Math.Min(b.Start, at), Math.Max(b.End, at));
            if (b.ViewOf is { } source) Touch(source, at);
        }
    }
}
