using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Igcv2.Design;

namespace Igcv2.Generators;

public sealed partial class Igcv2NetworkGenerator
{
    /// <summary>
    /// Emits the model half of a network class: layers as named fields, the straight-line forward and
    /// backward passes (one step per line, a comment per block with its K, L, permutations and shapes),
    /// and the activation buffers those passes need, allocated once per batch size. It prints the lowered
    /// steps (<see cref="NetworkSteps"/>) pass by pass as <see cref="BufferPlan"/> groups and places them;
    /// it decides nothing about order or buffers itself.
    /// </summary>
    private sealed class ModelEmitter
    {
        private const string Tensor = "global::Igcv2.Tensor";
        private readonly NetworkModel model;
        private readonly NetworkPlan plan;
        private readonly NetworkSteps lowered;
        private readonly BufferPlan buffers;

        public ModelEmitter(NetworkModel model)
        {
            this.model = model;
            plan = model.Plan;
            lowered = NetworkSteps.Lower(plan);
            buffers = BufferPlan.For(lowered, plan.Spec.Recompute);
        }

        public void Emit(SourceWriter w)
        {
            WriteFields(w);
            w.Line();
            WriteConstructor(w);
            w.Line();
            WriteMembers(w);
            w.Line();
            WriteForward(w);
            w.Line();
            WriteBackward(w);
            w.Line();
            WriteActivations(w);
        }

        private static string Field(string name) => BufferPlan.Field(name);

        /// <summary>A buffer as the generated code names it: a field of the Activations, the input, or Backward's argument.</summary>
        private static string Ref(string buffer) => buffer switch
        {
            BufferPlan.ModelInput => "a.Input!",
            BufferPlan.LossGradient or BufferPlan.LossGradientMap => buffer,
            _ => "a." + buffer,
        };

        private Step StepAt(int index) => lowered.Steps[index];

        private IEnumerable<Step> StepsOf(Pass pass) => Enumerable.Range(pass.First, pass.Count).Select(StepAt);

        private BlockPlan? BlockOf(string layer) => plan.Blocks.FirstOrDefault(b => b.Name == layer);

        private int BlockIndex(string layer) => plan.Blocks.Select((b, i) => (b, i)).First(x => x.b.Name == layer).i;

        private bool IsStem(Step step) => plan.Stem is { } stem && step.Layer == stem.Name;

        /// <summary>The generated field of a step's layer object: <c>stage1_block1_conv1</c>, <c>classifier</c>, <c>classifier_bias</c>.</summary>
        private static string LayerField(Step step) => step.Prefix is null ? "" : Field(step.Kind == StepKind.Bias ? step.Name : step.Prefix);

        /// <summary>The buffer that holds the input of block <paramref name="blockIndex"/> (the head's input past the last): the plan's, not a name made here.</summary>
        private string BlockInput(int blockIndex)
        {
            var layer = blockIndex < plan.Blocks.Count ? plan.Blocks[blockIndex].Name : plan.Classifier.Name;
            return Ref(buffers.ValueBuffers[lowered.Steps.First(s => s.Layer == layer).Input]);
        }

        private const string Folded = "global::Igcv2.Kernels.Fused.FoldedBlock";

        /// <summary>Whether inference runs block by block fused (every block's convolutions after W_1 are 1x1).</summary>
        private bool Fuses => plan.Blocks.All(b => b.IsPointwiseAfterFirst);

        private void WriteFields(SourceWriter w)
        {
            w.Line($"private readonly global::Igcv2.Models.ModelCore<Activations> core;");
            w.Line($"private readonly global::Igcv2.Kernels.Ops ops;");
            if (Fuses)
            {
                if (plan.Stem is not null) w.Line($"private readonly {Folded} stem_folded;");
                foreach (var block in plan.Blocks) w.Line($"private readonly {Folded} {Field(block.Name)}_folded;");
                w.Line($"private readonly {Folded}[] folded;");
            }
            foreach (var step in lowered.Steps.Where(s => s.HasTensors))
            {
                var type = step.Kind switch
                {
                    StepKind.Convolution => "Conv2dLayer",
                    StepKind.BatchNorm => "BatchNormLayer",
                    StepKind.Linear => "LinearLayer",
                    _ => "BiasLayer",
                };
                w.Line($"private readonly global::Igcv2.Models.{type} {LayerField(step)};");
            }
        }

        /// <summary>Where the generated code finds a convolution's plan: <c>Plan.Blocks[2].Convs[0]</c>.</summary>
        private string ConvPlan(Step step)
        {
            if (IsStem(step)) return "Plan.Stem!.Conv";
            if (step.Layer == plan.Classifier.Name) return $"Plan.Classifier.Convs[{step.L - 1}]";
            var b = BlockIndex(step.Layer);
            return step.OnSkipPath ? $"Plan.Blocks[{b}].Shortcut!" : $"Plan.Blocks[{b}].Convs[{step.L - 1}]";
        }

        private void WriteConstructor(SourceWriter w)
        {
            w.Line("/// <summary>");
            w.Line("/// Creates the model on <paramref name=\"device\"/> for batches of up to <paramref name=\"batchSize\"/> images;");
            w.Line("/// weights are He-normal from <paramref name=\"seed\"/> (same seed, same weights), BN gamma 1, beta 0.");
            w.Line("/// </summary>");
            using (w.Block($"public {model.ClassName}(global::Igcv2.Device device, int batchSize, int seed = 0)"))
            {
                w.Line($"core = new global::Igcv2.Models.ModelCore<Activations>(nameof({model.ClassName}), device, batchSize, seed, ParameterCount, static (d, n) => new Activations(d, n));");
                w.Line("ops = core.Ops;");
                foreach (var step in lowered.Steps.Where(s => s.HasTensors))
                {
                    var channels = lowered.Value(step.Output).Channels;
                    w.Line(step.Kind switch
                    {
                        StepKind.Convolution => $"{LayerField(step)} = core.Conv(\"{step.Prefix}\", {ConvPlan(step)});",
                        StepKind.BatchNorm => $"{LayerField(step)} = core.BatchNorm(\"{step.Prefix}\", {channels});",
                        StepKind.Linear => $"{LayerField(step)} = core.Linear(\"{step.Prefix}\", {lowered.Value(step.Input).Channels}, {channels});",
                        _ => $"{LayerField(step)} = core.Bias(\"{step.Prefix}.bias\", {channels});",
                    });
                }
                if (!Fuses) return;
                if (plan.Stem is not null) w.Line($"stem_folded = {Folded}.ForStem(Plan.Stem!, stem_conv, stem_bn);");
                for (var b = 0; b < plan.Blocks.Count; b++)
                {
                    var block = plan.Blocks[b];
                    var prefix = Field(block.Name);
                    var convs = string.Join(", ", Enumerable.Range(1, block.L).Select(l => $"{prefix}_conv{l}"));
                    var norms = string.Join(", ", Enumerable.Range(1, block.L).Select(l => $"{prefix}_bn{l}"));
                    var shortcut = block.Shortcut is null ? "" : $", {prefix}_shortcut_conv, {prefix}_shortcut_bn";
                    w.Line($"{prefix}_folded = {Folded}.ForBlock(Plan.Blocks[{b}], [{convs}], [{norms}]{shortcut});");
                }
                var all = (plan.Stem is null ? [] : new[] { "stem_folded" }).Concat(plan.Blocks.Select(b => Field(b.Name) + "_folded"));
                w.Line($"folded = [{string.Join(", ", all)}];");
            }
        }

        private void WriteMembers(SourceWriter w)
        {
            w.Line("/// <summary>The layers the generator laid out from the attributes (the same plan it checked).</summary>");
            w.Line("public static global::Igcv2.Design.NetworkPlan Plan { get; } = global::Igcv2.Design.NetworkPlan.Create(Spec);");
            w.Line();
            w.Line("global::Igcv2.Design.NetworkPlan global::Igcv2.IModel.Plan => Plan;");
            w.Line();
            w.Line("public global::Igcv2.Device Device => core.Device;");
            w.Line();
            w.Line("public int BatchSize => core.BatchSize;");
            w.Line();
            w.Line("public global::System.Collections.Generic.IReadOnlyList<global::Igcv2.Parameter> Parameters => core.Parameters;");
            w.Line();
            w.Line("/// <summary>Every parameter's values in one device buffer and every gradient in another, in <see cref=\"Parameters\"/> order.</summary>");
            w.Line("public global::Igcv2.ParameterArena Arena => core.Arena;");
            w.Line();
            w.Line("public global::System.Collections.Generic.IReadOnlyList<global::Igcv2.Parameter> Buffers => core.Buffers;");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Whether Forward(training: false) runs each block fused (BN folded into the convolutions, the permutations");
            w.Line("/// in the write index, skip and ReLU in the store) instead of one op per step: on by default on the CPU device");
            w.Line($"/// (IGCV2_FUSED=0 turns it off){(Fuses ? "" : "; always off here, since a block has a spatial convolution after its first (IGCV3)")}.");
            w.Line("/// </summary>");
            w.Line(Fuses
                ? "public bool FusedInference { get => core.FusedInference; set => core.FusedInference = value; }"
                : "public bool FusedInference { get => false; set { } }");
            w.Line();
            w.Line("/// <summary>When set, Backward also writes <see cref=\"InputGradient\"/>, the loss gradient with respect to the input.</summary>");
            w.Line("public bool ComputeInputGradient { get; set; }");
            w.Line();
            w.Line($"public {Tensor}? InputGradient {{ get; private set; }}");
            w.Line();
            w.Line("public void Dispose() => core.Dispose();");
        }

        private void WriteForward(SourceWriter w)
        {
            var spec = plan.Spec;
            w.Line("/// <summary>The forward pass, layer by layer as in the paper's Table 1; returns the logits [n, classes].</summary>");
            using (w.Block($"public {Tensor} Forward({Tensor} input, bool training)"))
            {
                w.Line($"var a = core.BeginForward(input, training, {spec.InputChannels}, {spec.InputSize});");
                w.Line("var n = a.N;");
                w.Line("a.Input = input;");
                if (Fuses) w.Line("if (!training && core.FusedInference) return Infer(a, n);");
                WritePassesForward(w, body: true);
                w.Line();
                w.Line("return Head(a, n, training);");
            }
            if (Fuses) WriteInference(w);
            w.Line();
            w.Line("/// <summary>Global average pooling and the classifier; returns the logits [n, classes].</summary>");
            using (w.Block($"private {Tensor} Head(Activations a, int n, bool training)"))
            {
                WritePassesForward(w, body: false);
                w.Line("return a.logits;");
            }
        }

        /// <summary>The passes of the stem and the blocks (<paramref name="body"/>), or of the head, each layer under its heading.</summary>
        private void WritePassesForward(SourceWriter w, bool body)
        {
            string? layer = null;
            var passes = buffers.Passes;
            for (var i = 0; i < passes.Count; i++)
            {
                var pass = passes[i];
                var step = StepAt(pass.First);
                if (step.Kind == StepKind.Loss || (step.Layer == plan.Classifier.Name) == body) continue;
                if (step.Layer != layer)
                {
                    layer = step.Layer;
                    w.Line();
                    w.Line(ForwardHeading(layer));
                }
                if (i + 2 < passes.Count && passes[i + 2].InputRecomputed)
                {
                    // BN, P and the 1x1 W reading them: one call (in training BN's statistics, then W normalising as it loads).
                    WriteNormalizedConvForward(w, pass, passes[i + 1], passes[i + 2]);
                    i += 2;
                    continue;
                }
                if (i + 1 < passes.Count && NormalizesIntoEpilogue(pass, passes[i + 1]))
                {
                    WriteNormEpilogueForward(w, pass, passes[++i]);
                    continue;
                }
                WritePassForward(w, pass);
            }
        }

        /// <summary>BN_l's pass, straight followed by the epilogue that reads its output (P_l, the skip, the activation).</summary>
        private bool NormalizesIntoEpilogue(Pass norm, Pass next) =>
            norm.Kind == PassKind.Step && StepAt(norm.First).Kind == StepKind.BatchNorm && !StepAt(norm.First).OnSkipPath
            && next.Kind == PassKind.Epilogue && next.Input == norm.Output;

        /// <summary>
        /// BN_l and its epilogue as one call: in training one normalising pass writes BN_l's output where P_l moves it,
        /// with the skip and the activation in the same store (<c>Ops.BatchNormShuffleAddActivation</c>); at inference
        /// BN into the scratch buffer, then the epilogue.
        /// </summary>
        private void WriteNormEpilogueForward(SourceWriter w, Pass norm, Pass epilogue)
        {
            var bn = StepAt(norm.First);
            var p = StepsOf(epilogue).First(s => s.Kind == StepKind.Permutation);
            var activation = StepsOf(epilogue).FirstOrDefault(s => s.Kind == StepKind.Activation)?.Activation ?? Activation.None;
            var then = activation == Activation.None ? "" : $", then {activation}";
            var skip = epilogue.Skip is null ? "null" : Ref(epilogue.Skip);
            w.Line($"{LayerField(bn)}.Forward(ops, {Ref(norm.Input)}, {Ref(norm.Output)}, {skip}, {Ref(epilogue.Output)}, n, training, {p.Permutation!.Branches}, {ActivationName(activation)});{Pad()}" +
                $"// BN_{bn.L} | P_{p.L}: {p.Permutation.Formula}{SkipText(p.Layer, epilogue)}{then}");
        }

        /// <summary>
        /// BN_{l-1}, P_{l-1} and the 1x1 W_l whose input they make (<c>Pass.InputRecomputed</c>) as one call: in training
        /// the input is never written (W_l normalises c as it loads it); at inference BN and P write it first.
        /// </summary>
        private void WriteNormalizedConvForward(SourceWriter w, Pass norm, Pass run, Pass conv)
        {
            var bn = StepAt(norm.First);
            var p = StepsOf(run).First(s => s.Kind == StepKind.Permutation);
            var step = StepAt(conv.First);
            var (branches, shuffle) = Shuffle(p);
            var scratch = p.Permutation!.IsIdentity ? "null" : Ref(norm.Output);
            w.Line($"{LayerField(step)}.Forward(ops, {LayerField(bn)}, {Ref(norm.Input)}, {scratch}, {Ref(run.Output)}, {branches.ToString(CultureInfo.InvariantCulture)}, {Ref(conv.Output)}, n, training);{Pad()}" +
                $"// BN_{bn.L} | {shuffle} | {ConvComment(step.L, step.Conv!).Substring(3)}");
        }

        private string ForwardHeading(string layer)
        {
            if (plan.Stem is { } stem && layer == stem.Name)
            {
                var c = stem.Conv;
                return $"// stem: dense 3x3 conv {c.InChannels} -> {c.OutChannels}, stride {c.Stride}, {c.InputSize}x{c.InputSize} -> {c.OutputSize}x{c.OutputSize}, BN, ReLU";
            }
            if (BlockOf(layer) is { } block)
            {
                return $"// {block.Name} ({block.Kind}): {block.Heading}, {block.InChannels} -> {block.OutChannels} channels, {block.InputSize}x{block.InputSize} -> {block.OutputSize}x{block.OutputSize}";
            }
            var cls = plan.Classifier;
            return cls.IsGrouped
                ? $"// classifier (IGCV2*, Table 8): global average pool {cls.InputSize}x{cls.InputSize}, {cls.Heading}: 1x1 group convs on the 1x1 map, {cls.InChannels} -> {cls.Classes}, + bias"
                : $"// classifier: global average pool {cls.InputSize}x{cls.InputSize}, FC {cls.InChannels} -> {cls.Classes}";
        }

        private void WritePassForward(SourceWriter w, Pass pass)
        {
            var step = StepAt(pass.First);
            var x = Ref(pass.Input);
            var y = Ref(pass.Output);
            if (pass.Kind == PassKind.InPlace)
            {
                foreach (var s in StepsOf(pass))
                {
                    if (s.Kind == StepKind.Activation) w.Line($"ops.{s.Activation}({y}, {y}, n);");
                    if (s.Permutation is { } identity) w.Line($"// P_{s.L}: {IdentityText(identity)}");
                }
                return;
            }
            if (pass.Kind == PassKind.Epilogue)
            {
                // Forward: out = act(P(in) + skip) in one pass (the activation before P_l commutes with it).
                var p = StepsOf(pass).First(s => s.Kind == StepKind.Permutation);
                var activation = StepsOf(pass).FirstOrDefault(s => s.Kind == StepKind.Activation)?.Activation ?? Activation.None;
                var then = activation == Activation.None ? "" : $", then {activation}";
                w.Line($"ops.ShuffleAddActivation({x}, {(pass.Skip is null ? "null" : Ref(pass.Skip))}, {y}, n, {p.Permutation!.Branches}, {ActivationName(activation)});{Pad()}// P_{p.L}: {p.Permutation.Formula}{SkipText(p.Layer, pass)}{then}");
                return;
            }
            var field = LayerField(step);
            switch (step.Kind)
            {
                case StepKind.Convolution when IsStem(step):
                    w.Line($"{field}.Forward(ops, input, {y}, n);");
                    return;
                case StepKind.Convolution when step.OnSkipPath:
                    var sc = step.Conv!;
                    w.Line($"{field}.Forward(ops, {x}, {y}, n);{Pad()}// projection shortcut: 1x1, {sc.InChannels} -> {sc.OutChannels}{(sc.Stride == 2 ? ", stride 2" : "")}");
                    return;
                case StepKind.Convolution:
                    w.Line($"{field}.Forward(ops, {x}, {y}, n);{Pad()}{ConvComment(step.L, step.Conv!)}");
                    return;
                case StepKind.BatchNorm:
                    w.Line($"{field}.Forward(ops, {x}, {y}, n, training);");
                    return;
                case StepKind.GlobalAveragePool:
                    var view = buffers.Buffer(pass.Output);
                    w.Line(view.ViewOf is { } pooled
                        ? $"ops.GlobalAveragePool({x}, {Ref(pooled)}, n);{Pad()}// {y}: the same memory as [n, {view.Channels}, 1, 1]"
                        : $"ops.GlobalAveragePool({x}, {y}, n);");
                    return;
                case StepKind.Linear:
                    w.Line($"{field}.Forward(ops, {x}, {y}, n);");
                    return;
                case StepKind.Bias:
                    // In place on the logits: W_L wrote them through their 1x1 map.
                    w.Line($"{field}.Forward(ops, {Ref(buffers.Buffer(pass.Input).ViewOf ?? pass.Input)}, {y}, n);");
                    return;
                default:
                    throw new System.NotSupportedException("No forward emitter for a " + step.Kind + " step.");
            }
        }

        /// <summary>", + the identity skip from the input of stage1.block1" for an epilogue that adds a skip.</summary>
        private string SkipText(string layer, Pass pass)
        {
            if (pass.Skip is null || BlockOf(layer) is not { HasSkip: true } block) return "";
            return $", + the {(block.Shortcut is null ? "identity" : "projected")} skip from the input of {plan.Blocks[block.SkipFrom].Name}";
        }

        /// <summary>The fused inference pass: one line per layer or block, each a <c>FoldedBlock</c> over the same buffers.</summary>
        private void WriteInference(SourceWriter w)
        {
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// The inference pass, one fused step per block: W_l with BN_l folded in, P_l in the write index, the skip and");
            w.Line("/// the activation in the last store, computed per band of output rows in cache. Forward's unfused steps are its oracle.");
            w.Line("/// A batch with a few images for every core runs image by image through all the blocks, a smaller one block by block.");
            w.Line("/// </summary>");
            using (w.Block($"private {Tensor} Infer(Activations a, int n)"))
            {
                w.Line($"{Folded}.Schedule(folded, n, image => InferBlocks(a, n, image));");
                w.Line("return Head(a, n, training: false);");
            }
            w.Line();
            w.Line("/// <summary>The fused blocks in order, on one image, or (image -1) on the whole batch with each block's rows split between the cores.</summary>");
            using (w.Block("private void InferBlocks(Activations a, int n, int image)"))
            {
                if (plan.Stem is { } stem)
                {
                    var c = stem.Conv;
                    w.Line($"stem_folded.Run(a.Input!, {BlockInput(0)}, null, n, image);{Pad()}// stem: W (3x3, {c.InChannels} -> {c.OutChannels}) + BN | ReLU");
                }
                for (var b = 0; b < plan.Blocks.Count; b++)
                {
                    var block = plan.Blocks[b];
                    var steps = string.Join(" | ", Enumerable.Range(1, block.L).Select(l =>
                        $"W_{l} BN_{l}{(l < block.L && block.Activations[l - 1] != Igcv2.Design.Activation.None ? " " + block.Activations[l - 1] : "")}{(block.Permutations[l - 1].IsIdentity ? "" : $" P_{l}")}"));
                    var skip = block.HasSkip ? BlockInput(block.SkipFrom) : "null";
                    var skipText = !block.HasSkip ? "" : block.Shortcut is null ? " + skip" : " + projected skip";
                    var final = block.FinalActivation == Igcv2.Design.Activation.None ? "" : " | " + block.FinalActivation;
                    w.Line($"{Field(block.Name)}_folded.Run({BlockInput(b)}, {BlockInput(b + 1)}, {skip}, n, image);{Pad()}// {block.Name}: {steps}{skipText}{final}");
                }
            }
        }

        private static string ActivationName(Activation activation) => "global::Igcv2.Design.Activation." + activation;

        /// <summary>"// W_2: 1x1, 4 branches x (8 -> 8)", with the stride when it is 2.</summary>
        private static string ConvComment(int l, GroupConvPlan conv) =>
            $"// W_{l}: {conv.KernelSize}x{conv.KernelSize}, {Branches(conv.Branches)} x ({conv.K} -> {conv.OutPerBranch}){(conv.Stride == 2 ? ", stride 2" : "")}";

        private void WriteBackward(SourceWriter w)
        {
            w.Line("/// <summary>The backward pass: the forward steps in reverse, writing every parameter's gradient.</summary>");
            using (w.Block($"public void Backward({Tensor} gradLogits)"))
            {
                w.Line($"var a = core.BeginBackward(gradLogits, {plan.Classifier.Classes});");
                w.Line("var n = a.N;");
                string? layer = null;
                for (var i = buffers.Passes.Count - 1; i >= 0; i--)
                {
                    var pass = buffers.Passes[i];
                    var step = StepAt(pass.First);
                    if (step.Kind == StepKind.Loss) continue;
                    if (step.Layer != layer)
                    {
                        layer = step.Layer;
                        w.Line();
                        w.Line(BackwardHeading(layer));
                    }
                    // The forward values this backward reads but were not kept, run again first.
                    foreach (var r in (pass.BackwardInNorm ? buffers.Passes[i - 1] : pass).Recompute) WriteRecomputedOutput(w, r);
                    if (pass.BackwardInNorm)
                    {
                        // act', the skip's share and P_l^-1 inside the backward of the BN before it: one op.
                        pass = buffers.Passes[--i];
                        WriteNormBackwardThrough(w, pass, buffers.Passes[i + 1]);
                    }
                    else if (pass.InputRecomputed)
                    {
                        WriteRecomputedInputBackward(w, pass, buffers.Passes[i - 1], buffers.Passes[i - 2]);
                    }
                    else
                    {
                        WritePassBackward(w, pass);
                    }
                    if (pass.Accumulate is { } share) w.Line($"ops.Add({Ref(pass.GradInput!)}, {Ref(share)}, {Ref(pass.GradInput!)}, n);{Pad()}// plus the skip's share");
                }
                if (!buffers.InputGradientDirect) w.Line($"if (ComputeInputGradient) ops.Copy({Ref(buffers.InputGradient)}, a.{BufferPlan.InputGradientBuffer});");
                w.Line($"InputGradient = ComputeInputGradient ? a.{BufferPlan.InputGradientBuffer} : null;");
            }
        }

        private string BackwardHeading(string layer)
        {
            if (plan.Stem is { } stem && layer == stem.Name) return "// stem";
            if (BlockOf(layer) is { } block) return $"// {block.Name} ({block.Kind}): {block.Heading}";
            var cls = plan.Classifier;
            return $"// classifier{(cls.IsGrouped ? " (IGCV2*): " + cls.Heading : "")}";
        }

        /// <summary>
        /// BN_l's backward with the pass after it (an epilogue, or an in-place activation) folded in, the mirror of
        /// <see cref="WriteNormEpilogueForward"/>: act', the skip's share, P_l^-1 and BN's backward in one call.
        /// </summary>
        private void WriteNormBackwardThrough(SourceWriter w, Pass norm, Pass after)
        {
            var bn = StepAt(norm.First);
            var p = StepsOf(after).FirstOrDefault(s => s.Kind == StepKind.Permutation && s.Permutation is { IsIdentity: false });
            var activation = StepsOf(after).FirstOrDefault(s => s.Kind == StepKind.Activation)?.Activation ?? Activation.None;
            var parts = new List<string>();
            if (activation != Activation.None) parts.Add(activation + "'");
            if (p is not null) parts.Add($"P_{p.L}^-1");
            parts.Add(bn.L == 0 ? "BN's backward" : $"BN_{bn.L}'s backward");
            var share = SkipShareText(after, bn.Layer);
            var inverse = p is null ? "1" : p.Permutation!.PerBranch.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // The activation's derivative reads the output; without one it is not read (and may not be kept).
            var y = activation == Activation.None ? "null" : Ref(after.Output);
            w.Line($"{LayerField(bn)}.Backward(ops, {y}, {Ref(after.GradOutput!)}, {(after.GradSkip is null ? "null" : Ref(after.GradSkip))}, {Ref(norm.Input)}, {Ref(norm.GradInput!)}, n, {inverse}, {ActivationName(activation)});{Pad()}" +
                $"// {string.Join(", ", parts)} in one pass{share}");
        }

        /// <summary>
        /// A 1x1 W_l whose input P_{l-1}(BN_{l-1}(c)) was not kept (<c>Pass.InputRecomputed</c>): its weight gradient
        /// recomputes that input from c, the BN input, and BN's saved statistics.
        /// </summary>
        private void WriteRecomputedInputBackward(SourceWriter w, Pass conv, Pass run, Pass norm)
        {
            var bn = StepAt(norm.First);
            var p = StepsOf(run).First(s => s.Kind == StepKind.Permutation);
            var branches = Shuffle(p).Groups;
            // A recomputed BN input is named for what it holds, not for the buffer that holds it.
            var c = buffers.Buffer(norm.Input).Role == BufferRole.Recomputed ? $"W_{bn.L}'s output" : norm.Input;
            var input = p.Permutation!.IsIdentity ? $"BN_{bn.L}({c})" : $"P_{p.L}(BN_{bn.L}({c}))";
            w.Line($"{LayerField(StepAt(conv.First))}.Backward(ops, {LayerField(bn)}, {Ref(norm.Input)}, {branches.ToString(CultureInfo.InvariantCulture)}, {Ref(conv.GradOutput!)}, {Ref(conv.GradInput!)}, n);{Pad()}" +
                $"// W_{StepAt(conv.First).L}'s input {input} recomputed, not kept");
        }

        /// <summary>
        /// A cheap W_l whose output was not kept (<c>Pass.OutputRecomputed</c>, pass <paramref name="index"/>): it runs
        /// again into its output's shared buffer, before the backward passes that read that output: from its kept input,
        /// or (its input recomputed too) from the BN input before it and BN's saved statistics, as training's forward did.
        /// </summary>
        private void WriteRecomputedOutput(SourceWriter w, int index)
        {
            var conv = buffers.Passes[index];
            var step = StepAt(conv.First);
            var cost = step.Conv!.K * step.Conv.KernelSize * step.Conv.KernelSize;
            var comment = $"// W_{step.L}'s output recomputed ({cost} multiply-add{(cost == 1 ? "" : "s")} an element), not kept";
            if (!conv.InputRecomputed)
            {
                w.Line($"{LayerField(step)}.Forward(ops, {Ref(conv.Input)}, {Ref(conv.Output)}, n);{Pad()}{comment}");
                return;
            }
            var norm = buffers.Passes[index - 2];
            var p = StepsOf(buffers.Passes[index - 1]).First(s => s.Kind == StepKind.Permutation);
            w.Line($"{LayerField(step)}.Recompute(ops, {LayerField(StepAt(norm.First))}, {Ref(norm.Input)}, {Shuffle(p).Groups.ToString(CultureInfo.InvariantCulture)}, {Ref(conv.Output)}, n);{Pad()}{comment}");
        }

        /// <summary>The comment on the skip's share when the pass writes one: where it is added (identity skip) or its buffer (projection).</summary>
        private string SkipShareText(Pass pass, string layer)
        {
            if (pass.GradSkip is not { } gSkip || BlockOf(layer) is not { } block) return "";
            return block.Shortcut is null
                ? $"; the skip's share, added at the input of {plan.Blocks[block.SkipFrom].Name}"
                : $"; the skip's share into {gSkip}";
        }

        /// <summary>P's branches as the fused ops take them (1 for the identity) and its comment ("P_1: identity (one channel per branch)").</summary>
        private static (int Groups, string Text) Shuffle(Step p) => p.Permutation!.IsIdentity
            ? (1, $"P_{p.L}: {IdentityText(p.Permutation)}")
            : (p.Permutation.Branches, $"P_{p.L}: {p.Permutation.Formula}");

        private static string IdentityText(PermutationPlan identity) =>
            $"identity ({(identity.Branches == 1 ? "one branch" : "one channel per branch")})";

        private void WritePassBackward(SourceWriter w, Pass pass)
        {
            var step = StepAt(pass.First);
            var gy = Ref(pass.GradOutput!);
            var gx = Ref(pass.GradInput!);
            if (pass.Kind == PassKind.InPlace)
            {
                foreach (var s in StepsOf(pass).Reverse())
                {
                    if (s.Kind == StepKind.Activation) w.Line($"ops.{s.Activation}Backward({Ref(pass.Output)}, {gy}, {gy}, n);");
                }
                return;
            }
            if (pass.Kind == PassKind.Epilogue)
            {
                // Backward: act', the skip's share and P_l^-1 in one pass.
                var p = StepsOf(pass).First(s => s.Kind == StepKind.Permutation);
                var activation = StepsOf(pass).FirstOrDefault(s => s.Kind == StepKind.Activation)?.Activation ?? Activation.None;
                var through = activation == Activation.None ? "" : $"{activation}' and ";
                var share = SkipShareText(pass, p.Layer);
                w.Line($"ops.ActivationBackwardShuffle({Ref(pass.Output)}, {gy}, {gx}, {(pass.GradSkip is null ? "null" : Ref(pass.GradSkip))}, n, {p.Permutation!.PerBranch}, {ActivationName(activation)});{Pad()}// {through}P_{p.L}^-1{share}");
                return;
            }
            var field = LayerField(step);
            var x = Ref(pass.Input);
            switch (step.Kind)
            {
                case StepKind.Bias:
                    var classes = lowered.Value(step.Output).Channels;
                    w.Line($"{field}.Backward(ops, {gy}, n);");
                    w.Line($"var {pass.GradInput} = {gy}.Reshape(n, {classes}, 1, 1);");
                    return;
                case StepKind.Linear:
                    w.Line($"{field}.Backward(ops, {x}, {gy}, {gx}, n);");
                    return;
                case StepKind.GlobalAveragePool:
                    w.Line($"ops.GlobalAveragePoolBackward({gy}, {gx}, n);");
                    return;
                case StepKind.Convolution when pass.GradInput == BufferPlan.InputGradientBuffer:
                    w.Line($"{field}.Backward(ops, {x}, {gy}, ComputeInputGradient ? {gx} : null, n);");
                    return;
                case StepKind.Convolution when step.OnSkipPath && BlockOf(step.Layer) is { } block:
                    w.Line($"{field}.Backward(ops, {x}, {gy}, {gx}, n);{Pad()}// the skip's share through the projection, added at the input of {plan.Blocks[block.SkipFrom].Name}");
                    return;
                case StepKind.Convolution:
                case StepKind.BatchNorm:
                    w.Line($"{field}.Backward(ops, {x}, {gy}, {gx}, n);");
                    return;
                default:
                    throw new System.NotSupportedException("No backward emitter for a " + step.Kind + " step.");
            }
        }

        private void WriteActivations(SourceWriter w)
        {
            var tensors = buffers.Buffers.Where(b => b.Role != BufferRole.View).ToList();
            var views = buffers.Buffers.Where(b => b.Role == BufferRole.View).ToList();
            w.Line("/// <summary>Activations kept for backward and gradient buffers, for one batch size n.</summary>");
            using (w.Block("private sealed class Activations : global::System.IDisposable"))
            {
                w.Line("public readonly int N;");
                w.Line($"public {Tensor}? Input;");
                foreach (var b in tensors) w.Line($"public readonly {Tensor} {b.Name};");
                foreach (var v in views) w.Line($"public readonly {Tensor} {v.Name};{Pad()}// a view of {v.ViewOf}");
                w.Line();
                using (w.Block("public Activations(global::Igcv2.Device device, int n)"))
                {
                    w.Line("N = n;");
                    foreach (var b in tensors)
                    {
                        w.Line(b.Size == 0
                            ? $"{b.Name} = device.Allocate(n, {b.Channels});"
                            : $"{b.Name} = device.Allocate(n, {b.Channels}, {b.Size}, {b.Size});");
                    }
                    foreach (var v in views) w.Line($"{v.Name} = {v.ViewOf}.Reshape(n, {v.Channels}, 1, 1);");
                }
                w.Line();
                using (w.Block("public void Dispose()"))
                {
                    foreach (var b in tensors) w.Line($"{b.Name}.Dispose();");
                }
            }
        }

        private static string Pad() => "    ";
    }
}
