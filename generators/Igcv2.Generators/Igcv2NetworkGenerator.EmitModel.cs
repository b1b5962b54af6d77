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
    /// and the activation buffers those passes need, allocated once per batch size.
    /// </summary>
    private sealed class ModelEmitter
    {
        private const string Tensor = "global::Igcv2.Tensor";
        private readonly NetworkModel model;
        private readonly NetworkPlan plan;
        private readonly List<(string Name, int Channels, int Size)> activations = new();
        private readonly List<(string Name, string Source, int Channels)> views = new();
        private readonly Dictionary<string, Stack<string>> freeGradients = new();
        private readonly Dictionary<string, int> gradientCounts = new();

        public ModelEmitter(NetworkModel model)
        {
            this.model = model;
            plan = model.Plan;
        }

        public void Emit(SourceWriter w)
        {
            // Backward first: it decides how many gradient buffers each shape needs.
            var forward = new SourceWriter();
            var backward = new SourceWriter();
            WriteForward(forward);
            WriteBackward(backward);

            WriteFields(w);
            w.Line();
            WriteConstructor(w);
            w.Line();
            WriteMembers(w);
            w.Line();
            w.Raw(forward.ToString());
            w.Line();
            w.Raw(backward.ToString());
            w.Line();
            WriteActivations(w);
        }

        private static string Field(string name) => name.Replace('.', '_');

        private string Keep(string name, int channels, int size)
        {
            activations.Add((name, channels, size));
            return "a." + name;
        }

        private static string ShapeKey(int channels, int size) => channels.ToString(CultureInfo.InvariantCulture) + "x" + size.ToString(CultureInfo.InvariantCulture);

        /// <summary>A gradient buffer of this shape that no pending value uses (the pool grows as needed).</summary>
        private string RentGradient(int channels, int size)
        {
            var key = ShapeKey(channels, size);
            if (freeGradients.TryGetValue(key, out var free) && free.Count > 0) return free.Pop();
            gradientCounts.TryGetValue(key, out var count);
            gradientCounts[key] = count + 1;
            var name = "grad_" + key + "_" + (char)('a' + count);
            activations.Add((name, channels, size));
            return "a." + name;
        }

        private void ReturnGradient(string name)
        {
            var key = name.Substring("a.grad_".Length, name.LastIndexOf('_') - "a.grad_".Length);
            if (!freeGradients.TryGetValue(key, out var free)) freeGradients[key] = free = new Stack<string>();
            free.Push(name);
        }

        /// <summary>A scratch buffer of a shape; <paramref name="kind"/> "scratch2" is a second one, for a value that lives beside the first (the projected skip).</summary>
        private string Scratch(int channels, int size, string kind = "scratch")
        {
            var name = kind + "_" + ShapeKey(channels, size);
            if (!activations.Any(a => a.Name == name)) activations.Add((name, channels, size));
            return "a." + name;
        }

        private static string BlockInput(NetworkPlan plan, int blockIndex) =>
            blockIndex == 0
                ? (plan.Stem is null ? "a.Input!" : "a.stem_out")
                : "a." + Field(plan.Blocks[blockIndex - 1].Name) + "_out";

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
            }
            if (plan.Stem is not null)
            {
                w.Line("private readonly global::Igcv2.Models.Conv2dLayer stem_conv;");
                w.Line("private readonly global::Igcv2.Models.BatchNormLayer stem_bn;");
            }
            foreach (var block in plan.Blocks)
            {
                var prefix = Field(block.Name);
                for (var l = 1; l <= block.L; l++)
                {
                    w.Line($"private readonly global::Igcv2.Models.Conv2dLayer {prefix}_conv{l};");
                    w.Line($"private readonly global::Igcv2.Models.BatchNormLayer {prefix}_bn{l};");
                }
                if (block.Shortcut is not null)
                {
                    w.Line($"private readonly global::Igcv2.Models.Conv2dLayer {prefix}_shortcut_conv;");
                    w.Line($"private readonly global::Igcv2.Models.BatchNormLayer {prefix}_shortcut_bn;");
                }
            }
            var head = plan.Classifier;
            if (!head.IsGrouped)
            {
                w.Line("private readonly global::Igcv2.Models.LinearLayer classifier;");
                return;
            }
            for (var l = 1; l <= head.L; l++)
            {
                w.Line($"private readonly global::Igcv2.Models.Conv2dLayer classifier_conv{l};");
                if (l < head.L) w.Line($"private readonly global::Igcv2.Models.BatchNormLayer classifier_bn{l};");
            }
            w.Line("private readonly global::Igcv2.Models.BiasLayer classifier_bias;");
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
                if (plan.Stem is { } stem)
                {
                    w.Line("stem_conv = core.Conv(\"stem.conv\", Plan.Stem!.Conv);");
                    w.Line($"stem_bn = core.BatchNorm(\"stem.bn\", {stem.Conv.OutChannels});");
                }
                for (var b = 0; b < plan.Blocks.Count; b++)
                {
                    var block = plan.Blocks[b];
                    var prefix = Field(block.Name);
                    for (var l = 1; l <= block.L; l++)
                    {
                        w.Line($"{prefix}_conv{l} = core.Conv(\"{block.Name}.conv{l}\", Plan.Blocks[{b}].Convs[{l - 1}]);");
                        w.Line($"{prefix}_bn{l} = core.BatchNorm(\"{block.Name}.bn{l}\", {block.Convs[l - 1].OutChannels});");
                    }
                    if (block.Shortcut is { } shortcut)
                    {
                        w.Line($"{prefix}_shortcut_conv = core.Conv(\"{shortcut.Name}\", Plan.Blocks[{b}].Shortcut!);");
                        w.Line($"{prefix}_shortcut_bn = core.BatchNorm(\"{block.Name}.shortcut.bn\", {shortcut.OutChannels});");
                    }
                }
                var head = plan.Classifier;
                if (!head.IsGrouped)
                {
                    w.Line($"classifier = core.Linear(\"classifier\", {head.InChannels}, {head.Classes});");
                }
                else
                {
                    for (var l = 1; l <= head.L; l++)
                    {
                        w.Line($"classifier_conv{l} = core.Conv(\"classifier.conv{l}\", Plan.Classifier.Convs[{l - 1}]);");
                        if (l < head.L) w.Line($"classifier_bn{l} = core.BatchNorm(\"classifier.bn{l}\", {head.Convs[l - 1].OutChannels});");
                    }
                    w.Line($"classifier_bias = core.Bias(\"classifier.bias\", {head.Classes});");
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
                if (plan.Stem is { } stem)
                {
                    var c = stem.Conv;
                    w.Line();
                    w.Line($"// stem: dense 3x3 conv {c.InChannels} -> {c.OutChannels}, stride {c.Stride}, {c.InputSize}x{c.InputSize} -> {c.OutputSize}x{c.OutputSize}, BN, ReLU");
                    var conv = Keep("stem_c", c.OutChannels, c.OutputSize);
                    var output = Keep("stem_out", c.OutChannels, c.OutputSize);
                    w.Line($"stem_conv.Forward(ops, input, {conv}, n);");
                    w.Line($"stem_bn.Forward(ops, {conv}, {output}, n, training);");
                    w.Line($"ops.Relu({output}, {output}, n);");
                }

                for (var b = 0; b < plan.Blocks.Count; b++) WriteBlockForward(w, b);

                w.Line();
                w.Line("return Head(a, n, training);");
            }
            if (Fuses) WriteInference(w);
            w.Line();
            w.Line("/// <summary>Global average pooling and the classifier; returns the logits [n, classes].</summary>");
            using (w.Block($"private {Tensor} Head(Activations a, int n, bool training)"))
            {
                WriteClassifierForward(w);
                w.Line("return a.logits;");
            }
        }

        /// <summary>The fused inference pass: one line per layer or block, each a <c>FoldedBlock</c> over the same buffers.</summary>
        private void WriteInference(SourceWriter w)
        {
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// The inference pass, one fused step per block: W_l with BN_l folded in, P_l in the write index, the skip and");
            w.Line("/// the activation in the last store, computed per band of output rows in cache. Forward's unfused steps are its oracle.");
            w.Line("/// </summary>");
            using (w.Block($"private {Tensor} Infer(Activations a, int n)"))
            {
                if (plan.Stem is { } stem)
                {
                    var c = stem.Conv;
                    w.Line($"stem_folded.Run(a.Input!, a.stem_out, null, n);{Pad()}// stem: W (3x3, {c.InChannels} -> {c.OutChannels}) + BN | ReLU");
                }
                for (var b = 0; b < plan.Blocks.Count; b++)
                {
                    var block = plan.Blocks[b];
                    var steps = string.Join(" | ", Enumerable.Range(1, block.L).Select(l =>
                        $"W_{l} BN_{l}{(l < block.L && block.Activations[l - 1] != Igcv2.Design.Activation.None ? " " + block.Activations[l - 1] : "")}{(block.Permutations[l - 1].IsIdentity ? "" : $" P_{l}")}"));
                    var skip = block.HasSkip ? BlockInput(plan, block.SkipFrom) : "null";
                    var skipText = !block.HasSkip ? "" : block.Shortcut is null ? " + skip" : " + projected skip";
                    var final = block.FinalActivation == Igcv2.Design.Activation.None ? "" : " | " + block.FinalActivation;
                    w.Line($"{Field(block.Name)}_folded.Run({BlockInput(plan, b)}, a.{Field(block.Name)}_out, {skip}, n);{Pad()}// {block.Name}: {steps}{skipText}{final}");
                }
                w.Line("return Head(a, n, training: false);");
            }
        }

        private void WriteClassifierForward(SourceWriter w)
        {
            var cls = plan.Classifier;
            var last = BlockInput(plan, plan.Blocks.Count);
            Keep("pooled", cls.InChannels, 0);
            Keep("logits", cls.Classes, 0);
            w.Line();
            if (!cls.IsGrouped)
            {
                w.Line($"// classifier: global average pool {cls.InputSize}x{cls.InputSize}, FC {cls.InChannels} -> {cls.Classes}");
                w.Line($"ops.GlobalAveragePool({last}, a.pooled, n);");
                w.Line("classifier.Forward(ops, a.pooled, a.logits, n);");
                return;
            }
            w.Line($"// classifier (IGCV2*, Table 8): global average pool {cls.InputSize}x{cls.InputSize}, {cls.Heading}: 1x1 group convs on the 1x1 map, {cls.InChannels} -> {cls.Classes}, + bias");
            views.Add(("pooled_map", "pooled", cls.InChannels));
            views.Add(("logits_map", "logits", cls.Classes));
            w.Line($"ops.GlobalAveragePool({last}, a.pooled, n);{Pad()}// a.pooled_map: the same memory as [n, {cls.InChannels}, 1, 1]");
            var input = "a.pooled_map";
            for (var l = 1; l < cls.L; l++)
            {
                input = WriteStepForward(w, "classifier", l, cls.Convs[l - 1], cls.Permutations[l - 1], Igcv2.Design.Activation.None, input, $"classifier_in{l + 1}");
            }
            w.Line($"classifier_conv{cls.L}.Forward(ops, {input}, a.logits_map, n);{Pad()}{ConvComment(cls.L, cls.Convs[cls.L - 1])}");
            w.Line("classifier_bias.Forward(ops, a.logits, a.logits, n);");
        }

        /// <summary>
        /// One step of a block (or of the grouped head): W_l, BN_l, the activation, then P_l into
        /// <paramref name="nextName"/>, which it returns as the step's output.
        /// </summary>
        private string WriteStepForward(SourceWriter w, string prefix, int l, GroupConvPlan conv, PermutationPlan p, Activation activation, string input, string nextName)
        {
            var next = Keep(nextName, conv.OutChannels, conv.OutputSize);
            var normalized = p.IsIdentity ? next : Scratch(conv.OutChannels, conv.OutputSize);
            WriteConvNormForward(w, prefix, l, conv, input, normalized);
            if (p.IsIdentity)
            {
                if (activation != Igcv2.Design.Activation.None) w.Line($"ops.{activation}({normalized}, {normalized}, n);");
                w.Line($"// P_{l}: identity ({(p.Branches == 1 ? "one branch" : "one channel per branch")})");
            }
            else
            {
                var then = activation == Igcv2.Design.Activation.None ? "" : $", then {activation}";
                w.Line($"ops.ShuffleAddActivation({normalized}, null, {next}, n, {p.Branches}, {ActivationName(activation)});{Pad()}// P_{l}: {p.Formula}{then}");
            }
            return next;
        }

        /// <summary>W_l into <c>{prefix}_c{l}</c> (kept for BN's backward), then BN_l into <paramref name="normalized"/>.</summary>
        private void WriteConvNormForward(SourceWriter w, string prefix, int l, GroupConvPlan conv, string input, string normalized)
        {
            var c = Keep($"{prefix}_c{l}", conv.OutChannels, conv.OutputSize);
            w.Line($"{prefix}_conv{l}.Forward(ops, {input}, {c}, n);{Pad()}{ConvComment(l, conv)}");
            w.Line($"{prefix}_bn{l}.Forward(ops, {c}, {normalized}, n, training);");
        }

        private static string ActivationName(Activation activation) => "global::Igcv2.Design.Activation." + activation;

        /// <summary>"// W_2: 1x1, 4 branches x (8 -> 8)", with the stride when it is 2.</summary>
        private static string ConvComment(int l, GroupConvPlan conv) =>
            $"// W_{l}: {conv.KernelSize}x{conv.KernelSize}, {Branches(conv.Branches)} x ({conv.K} -> {conv.OutPerBranch}){(conv.Stride == 2 ? ", stride 2" : "")}";

        private void WriteBlockForward(SourceWriter w, int b)
        {
            var block = plan.Blocks[b];
            var prefix = Field(block.Name);
            var x = BlockInput(plan, b);
            var size = block.OutputSize;
            w.Line();
            w.Line($"// {block.Name} ({block.Kind}): {block.Heading}, {block.InChannels} -> {block.OutChannels} channels, {block.InputSize}x{block.InputSize} -> {size}x{size}");
            var input = x;
            for (var l = 1; l < block.L; l++)
            {
                input = WriteStepForward(w, prefix, l, block.Convs[l - 1], block.Permutations[l - 1], block.Activations[l - 1], input, $"{prefix}_in{l + 1}");
            }

            // W_L and BN_L, then P_L, the skip and the final activation in one pass.
            var last = block.Convs[block.L - 1];
            var p = block.Permutations[block.L - 1];
            var normalized = Scratch(last.OutChannels, last.OutputSize);
            var output = Keep($"{prefix}_out", block.OutChannels, size);
            WriteConvNormForward(w, prefix, block.L, last, input, normalized);
            var skip = "null";
            var skipText = "";
            if (block.HasSkip)
            {
                var from = BlockInput(plan, block.SkipFrom);
                if (block.Shortcut is { } sc)
                {
                    var sum = Keep($"{prefix}_sc", sc.OutChannels, sc.OutputSize);
                    skip = Scratch(sc.OutChannels, sc.OutputSize, "scratch2");
                    w.Line($"{prefix}_shortcut_conv.Forward(ops, {from}, {sum}, n);{Pad()}// projection shortcut: 1x1, {sc.InChannels} -> {sc.OutChannels}{(sc.Stride == 2 ? ", stride 2" : "")}");
                    w.Line($"{prefix}_shortcut_bn.Forward(ops, {sum}, {skip}, n, training);");
                    skipText = $", + the projected skip from the input of {plan.Blocks[block.SkipFrom].Name}";
                }
                else
                {
                    skip = from;
                    skipText = $", + the identity skip from the input of {plan.Blocks[block.SkipFrom].Name}";
                }
            }
            var final = block.FinalActivation == Igcv2.Design.Activation.None ? "" : $", then {block.FinalActivation}";
            w.Line($"ops.ShuffleAddActivation({normalized}, {skip}, {output}, n, {p.Branches}, {ActivationName(block.FinalActivation)});{Pad()}// P_{block.L}: {p.Formula}{skipText}{final}");
        }



        private void WriteBackward(SourceWriter w)
        {
            w.Line("/// <summary>The backward pass: the forward steps in reverse, writing every parameter's gradient.</summary>");
            using (w.Block($"public void Backward({Tensor} gradLogits)"))
            {
                var cls = plan.Classifier;
                w.Line($"var a = core.BeginBackward(gradLogits, {cls.Classes});");
                w.Line("var n = a.N;");
                var g = WriteClassifierBackward(w);

                var pendingSkips = new Dictionary<int, string>();
                for (var b = plan.Blocks.Count - 1; b >= 0; b--) g = WriteBlockBackward(w, b, g, pendingSkips);

                if (plan.Stem is { } stem)
                {
                    var c = stem.Conv;
                    w.Line();
                    w.Line("// stem");
                    w.Line($"ops.ReluBackward(a.stem_out, {g}, {g}, n);");
                    var gc = RentGradient(c.OutChannels, c.OutputSize);
                    w.Line($"stem_bn.Backward(ops, a.stem_c, {g}, {gc}, n);");
                    ReturnGradient(g);
                    w.Line($"stem_conv.Backward(ops, a.Input!, {gc}, ComputeInputGradient ? a.input_grad : null, n);");
                    ReturnGradient(gc);
                    w.Line("InputGradient = ComputeInputGradient ? a.input_grad : null;");
                }
                else
                {
                    w.Line($"if (ComputeInputGradient) ops.Copy({g}, a.input_grad);");
                    w.Line("InputGradient = ComputeInputGradient ? a.input_grad : null;");
                    ReturnGradient(g);
                }
                Keep("input_grad", plan.Spec.InputChannels, plan.Spec.InputSize);
            }
        }

        /// <summary>Back through the classifier to the gradient of the last block's output, which it returns.</summary>
        private string WriteClassifierBackward(SourceWriter w)
        {
            var cls = plan.Classifier;
            w.Line();
            w.Line($"// classifier{(cls.IsGrouped ? " (IGCV2*): " + cls.Heading : "")}");
            Keep("grad_pooled", cls.InChannels, 0);
            if (!cls.IsGrouped)
            {
                w.Line("classifier.Backward(ops, a.pooled, gradLogits, a.grad_pooled, n);");
            }
            else
            {
                views.Add(("grad_pooled_map", "grad_pooled", cls.InChannels));
                w.Line("classifier_bias.Backward(ops, gradLogits, n);");
                var gy = "gradLogitsMap";
                w.Line($"var {gy} = gradLogits.Reshape(n, {cls.Classes}, 1, 1);");
                for (var l = cls.L; l >= 1; l--)
                {
                    var conv = cls.Convs[l - 1];
                    if (l < cls.L) gy = WriteStepBackward(w, "classifier", l, conv, cls.Permutations[l - 1], Igcv2.Design.Activation.None, gy);
                    var x = l == 1 ? "a.pooled_map" : $"a.classifier_in{l}";
                    var gx = l == 1 ? "a.grad_pooled_map" : RentGradient(conv.InChannels, 1);
                    w.Line($"classifier_conv{l}.Backward(ops, {x}, {gy}, {gx}, n);");
                    if (l < cls.L) ReturnGradient(gy);
                    gy = gx;
                }
            }
            var g = RentGradient(cls.InChannels, cls.InputSize);
            w.Line($"ops.GlobalAveragePoolBackward(a.grad_pooled, {g}, n);");
            return g;
        }

        /// <summary>Back through one block; <paramref name="g"/> holds the gradient of its output, the result that of its input.</summary>
        private string WriteBlockBackward(SourceWriter w, int b, string g, Dictionary<int, string> pendingSkips)
        {
            var block = plan.Blocks[b];
            var prefix = Field(block.Name);
            w.Line();
            w.Line($"// {block.Name} ({block.Kind}): {block.Heading}");
            // Back through the final activation, P_L^-1 and the skip's share in one pass, then BN_L.
            var lastConv = block.Convs[block.L - 1];
            var lastP = block.Permutations[block.L - 1];
            var gLast = RentGradient(lastConv.OutChannels, lastConv.OutputSize);
            var final = block.FinalActivation == Igcv2.Design.Activation.None ? "" : $"{block.FinalActivation}' and ";
            if (block.HasSkip)
            {
                var from = plan.Blocks[block.SkipFrom];
                var skip = RentGradient(from.InChannels, from.InputSize);
                if (block.Shortcut is { } sc)
                {
                    var gm = RentGradient(block.OutChannels, block.OutputSize);
                    w.Line($"ops.ActivationBackwardShuffle(a.{prefix}_out, {g}, {gLast}, {gm}, n, {lastP.PerBranch}, {ActivationName(block.FinalActivation)});{Pad()}// {final}P_{block.L}^-1; the skip's share into {gm.Substring(2)}");
                    var gc = RentGradient(sc.OutChannels, sc.OutputSize);
                    w.Line($"{prefix}_shortcut_bn.Backward(ops, a.{prefix}_sc, {gm}, {gc}, n);");
                    w.Line($"{prefix}_shortcut_conv.Backward(ops, {BlockInput(plan, block.SkipFrom)}, {gc}, {skip}, n);{Pad()}// the skip's share through the projection, added at the input of {from.Name}");
                    ReturnGradient(gc);
                    ReturnGradient(gm);
                }
                else
                {
                    w.Line($"ops.ActivationBackwardShuffle(a.{prefix}_out, {g}, {gLast}, {skip}, n, {lastP.PerBranch}, {ActivationName(block.FinalActivation)});{Pad()}// {final}P_{block.L}^-1; the skip's share, added at the input of {from.Name}");
                }
                pendingSkips[block.SkipFrom] = skip;
            }
            else
            {
                w.Line($"ops.ActivationBackwardShuffle(a.{prefix}_out, {g}, {gLast}, null, n, {lastP.PerBranch}, {ActivationName(block.FinalActivation)});{Pad()}// {final}P_{block.L}^-1");
            }
            ReturnGradient(g);
            g = WriteConvBackward(w, b, block.L, WriteNormBackward(w, prefix, block.L, lastConv, gLast));

            for (var l = block.L - 1; l >= 1; l--)
            {
                var conv = block.Convs[l - 1];
                g = WriteConvBackward(w, b, l, WriteStepBackward(w, prefix, l, conv, block.Permutations[l - 1], block.Activations[l - 1], g));
            }

            if (pendingSkips.TryGetValue(b, out var pending))
            {
                w.Line($"ops.Add({g}, {pending}, {g}, n);{Pad()}// plus the skip's share");
                ReturnGradient(pending);
                pendingSkips.Remove(b);
            }
            return g;
        }

        /// <summary>
        /// Back through one step's activation, P_l and BN_l: <paramref name="g"/> (returned to the pool) holds the
        /// gradient of the step's output; the result, the gradient of W_l's output.
        /// </summary>
        private string WriteStepBackward(SourceWriter w, string prefix, int l, GroupConvPlan conv, PermutationPlan p, Activation activation, string g)
        {
            var gNormalized = g;
            if (p.IsIdentity)
            {
                if (activation != Igcv2.Design.Activation.None)
                {
                    w.Line($"ops.{activation}Backward(a.{prefix}_in{l + 1}, {g}, {g}, n);");
                }
            }
            else
            {
                gNormalized = RentGradient(conv.OutChannels, conv.OutputSize);
                var through = activation == Igcv2.Design.Activation.None ? "" : $"{activation}' and ";
                w.Line($"ops.ActivationBackwardShuffle(a.{prefix}_in{l + 1}, {g}, {gNormalized}, null, n, {p.PerBranch}, {ActivationName(activation)});{Pad()}// {through}P_{l}^-1");
                ReturnGradient(g);
            }
            return WriteNormBackward(w, prefix, l, conv, gNormalized);
        }

        /// <summary>Back through BN_l: <paramref name="g"/> (returned to the pool) holds the gradient of its output; the result, that of W_l's output.</summary>
        private string WriteNormBackward(SourceWriter w, string prefix, int l, GroupConvPlan conv, string g)
        {
            var gc = RentGradient(conv.OutChannels, conv.OutputSize);
            w.Line($"{prefix}_bn{l}.Backward(ops, a.{prefix}_c{l}, {g}, {gc}, n);");
            ReturnGradient(g);
            return gc;
        }

        /// <summary>Back through W_l of block <paramref name="b"/>: its weight gradient, and the gradient of its input, which it returns.</summary>
        private string WriteConvBackward(SourceWriter w, int b, int l, string gc)
        {
            var block = plan.Blocks[b];
            var prefix = Field(block.Name);
            var conv = block.Convs[l - 1];
            var x = l == 1 ? BlockInput(plan, b) : $"a.{prefix}_in{l}";
            var gx = l == 1 ? RentGradient(block.InChannels, block.InputSize) : RentGradient(conv.InChannels, conv.InputSize);
            w.Line($"{prefix}_conv{l}.Backward(ops, {x}, {gc}, {gx}, n);");
            ReturnGradient(gc);
            return gx;
        }

        private void WriteActivations(SourceWriter w)
        {
            w.Line("/// <summary>Activations kept for backward and gradient buffers, for one batch size n.</summary>");
            using (w.Block("private sealed class Activations : global::System.IDisposable"))
            {
                w.Line("public readonly int N;");
                w.Line($"public {Tensor}? Input;");
                var distinct = activations.GroupBy(a => a.Name).Select(g => g.First()).ToList();
                foreach (var a in distinct) w.Line($"public readonly {Tensor} {a.Name};");
                foreach (var v in views) w.Line($"public readonly {Tensor} {v.Name};{Pad()}// a view of {v.Source}");
                w.Line();
                using (w.Block("public Activations(global::Igcv2.Device device, int n)"))
                {
                    w.Line("N = n;");
                    foreach (var a in distinct)
                    {
                        w.Line(a.Size == 0
                            ? $"{a.Name} = device.Allocate(n, {a.Channels});"
                            : $"{a.Name} = device.Allocate(n, {a.Channels}, {a.Size}, {a.Size});");
                    }
                    foreach (var v in views) w.Line($"{v.Name} = {v.Source}.Reshape(n, {v.Channels}, 1, 1);");
                }
                w.Line();
                using (w.Block("public void Dispose()"))
                {
                    foreach (var a in distinct) w.Line($"{a.Name}.Dispose();");
                }
            }
        }

        private static string Pad() => "    ";
    }
}
