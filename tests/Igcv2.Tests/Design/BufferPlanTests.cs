using Igcv2.Design;

namespace Igcv2.Tests.Design;

/// <summary>Buffer planning: passes, which buffer holds which value, gradient reuse and lifetimes.</summary>
public sealed class BufferPlanTests
{
    /// <summary>Every test network, with backward recomputing cheap convolutions' outputs and keeping them all.</summary>
    public static TheoryData<string, bool> AllBothWays
    {
        get
        {
            var data = new TheoryData<string, bool>();
            foreach (var row in NetworkStepsTests.All)
            {
                data.Add(row, true);
                data.Add(row, false);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(AllBothWays))]
    public void No_buffer_is_overwritten_while_a_later_pass_still_reads_its_value(string network, bool recompute)
    {
        // Runs the schedule symbolically: every buffer holds the id of the value last written into it; each pass,
        // forward then backward, must find there the value (or the gradient of the value) it reads.
        var lowered = NetworkSteps.Lower(NetworkStepsTests.ByName(network));
        var plan = BufferPlan.For(lowered, recompute);
        var holds = new Dictionary<string, int> { [BufferPlan.ModelInput] = NetworkSteps.InputValue };
        string Memory(string name) => plan.Buffers.FirstOrDefault(b => b.Name == name)?.ViewOf ?? name;
        void Expect(string buffer, int value, string what) =>
            Assert.True(holds.TryGetValue(Memory(buffer), out var held) && held == value,
                $"{network}: {what} reads {buffer} for value {value} ({lowered.Value(value).Name}) but it holds {(holds.TryGetValue(Memory(buffer), out var h) ? h.ToString() : "nothing")}");

        foreach (var pass in plan.Passes)
        {
            var first = lowered.Steps[pass.First];
            var last = lowered.Steps[pass.Last];
            if (first.Kind == StepKind.Loss) continue;
            Expect(pass.Input, first.Input, first.Name);
            if (pass.Kind != PassKind.InPlace && first.Kind != StepKind.Bias) Assert.NotEqual(Memory(pass.Input), Memory(pass.Output));
            var skip = Skip(lowered, pass);
            if (skip >= 0) Expect(pass.Skip!, skip, first.Name + " (skip)");
            holds[Memory(pass.Output)] = last.Output;
        }

        // Gradients: -1 - v stands for "the gradient of value v".
        holds[BufferPlan.LossGradient] = -1 - lowered.Logits.Id;
        for (var i = plan.Passes.Count - 1; i >= 0; i--)
        {
            var pass = plan.Passes[i];
            var first = lowered.Steps[pass.First];
            var last = lowered.Steps[pass.Last];
            if (first.Kind == StepKind.Loss) continue;
            if (pass.BackwardInNorm)
            {
                // Backward inside the BN pass before it: that pass reads this one's output gradient, writes its own
                // input's and the skip's share, all in one op, so none of the three may share memory.
                var norm = plan.Passes[i - 1];
                Assert.Equal(StepKind.BatchNorm, lowered.Steps[norm.First].Kind);
                Assert.Equal(lowered.Steps[norm.First].Output, first.Input);
                Assert.Equal(pass.GradOutput, norm.GradOutput);
                Assert.True(holds.TryGetValue(Memory(pass.GradOutput!), out var held) && held == -1 - last.Output,
                    $"{network}: backward of {last.Name} (in BN's) reads {pass.GradOutput} for its gradient but it holds {held}");
                Assert.NotEqual(Memory(norm.GradOutput!), Memory(norm.GradInput!));
                if (pass.GradSkip is { } skipShare)
                {
                    Assert.DoesNotContain(Memory(skipShare), new[] { Memory(norm.GradOutput!), Memory(norm.GradInput!) });
                    holds[Memory(skipShare)] = -1 - Skip(lowered, pass);
                }
                if (pass.Kind == PassKind.Epilogue) Assert.Null(pass.GradInput);
                if (Activates(lowered, pass)) Expect(pass.Output, last.Output, last.Name + " backward");
                Expect(norm.Input, lowered.Steps[norm.First].Input, lowered.Steps[norm.First].Name + " backward");
                holds[Memory(norm.GradInput!)] = -1 - lowered.Steps[norm.First].Input;
                i--;
                continue;
            }
            foreach (var r in (pass.BackwardInNorm ? plan.Passes[i - 1] : pass).Recompute)
            {
                // A convolution runs again first: its input (or the BN input it recomputes its input from) must still be
                // there, and its output's shared buffer holds its output again (another block's overwrote it since).
                var rerun = plan.Passes[r];
                var conv = lowered.Steps[rerun.First];
                Assert.True(rerun.OutputRecomputed, $"{network}: {first.Name} recomputes a pass that is not marked so");
                if (rerun.InputRecomputed) Expect(plan.Passes[r - 2].Input, lowered.Steps[plan.Passes[r - 2].First].Input, conv.Name + " (recomputed, its BN input)");
                else Expect(rerun.Input, conv.Input, conv.Name + " (recomputed)");
                holds[Memory(rerun.Output)] = conv.Output;
            }
            if (pass.Kind != PassKind.InPlace)
            {
                // A pass's kernel reads one buffer and writes others: no gradient in place but the activation's.
                Assert.NotEqual(Memory(pass.GradOutput!), Memory(pass.GradInput!));
                if (pass.GradSkip is not null) Assert.DoesNotContain(Memory(pass.GradSkip), new[] { Memory(pass.GradOutput!), Memory(pass.GradInput!) });
            }
            Assert.True(holds.TryGetValue(Memory(pass.GradOutput!), out var g) && g == -1 - last.Output,
                $"{network}: backward of {last.Name} reads {pass.GradOutput} for its gradient but it holds {g}");
            // What backward reads of the forward: the input for W_l's weights and BN, the output for the activation.
            if (pass.InputRecomputed)
            {
                // The 1x1 W_l recomputes its input P(BN(c)) from c, two passes before it: c must still be there.
                var norm = plan.Passes[i - 2];
                Assert.Equal(StepKind.BatchNorm, lowered.Steps[norm.First].Kind);
                Assert.Equal(1, lowered.Steps[pass.First].Conv!.KernelSize);
                Expect(norm.Input, lowered.Steps[norm.First].Input, first.Name + " backward (recomputed input)");
            }
            else if (first.Kind is StepKind.Convolution or StepKind.BatchNorm or StepKind.Linear)
            {
                Expect(pass.Input, first.Input, first.Name + " backward");
            }
            // The activation's derivative reads the output; a permutation or a skip's add alone does not.
            if (pass.Kind == PassKind.Epilogue && Activates(lowered, pass)) Expect(pass.Output, last.Output, last.Name + " backward");
            if (pass.Accumulate is { } share)
            {
                Assert.True(holds[Memory(share)] == -1 - first.Input, $"{network}: {share} no longer holds the skip's share of {lowered.Value(first.Input).Name}");
            }
            if (pass.GradSkip is { } gSkip) holds[Memory(gSkip)] = -1 - Skip(lowered, pass);
            holds[Memory(pass.GradInput!)] = -1 - first.Input;
        }
        Assert.Equal(-1 - NetworkSteps.InputValue, holds[Memory(plan.InputGradient)]);
    }

    [Theory]
    [MemberData(nameof(AllBothWays))]
    public void Scratch_dies_in_the_forward_pass_convolution_outputs_live_until_BN_backward_gradients_only_in_backward(string network, bool recompute)
    {
        var lowered = NetworkSteps.Lower(NetworkStepsTests.ByName(network));
        var plan = BufferPlan.For(lowered, recompute);
        if (!recompute) Assert.DoesNotContain(plan.Passes, p => p.OutputRecomputed || p.Recompute.Count > 0);
        var forward = plan.Passes.Count;
        foreach (var buffer in plan.Buffers)
        {
            Assert.True(buffer.Start <= buffer.End, buffer.Name);
            switch (buffer.Role)
            {
                case BufferRole.Scratch:
                    Assert.True(buffer.End < forward, $"{network}: {buffer.Name} is read in backward ({buffer.End})");
                    break;
                case BufferRole.Gradient:
                    Assert.True(buffer.Start >= forward, $"{network}: {buffer.Name} is written in forward ({buffer.Start})");
                    break;
                case BufferRole.Recomputed:
                    Assert.True(buffer.Start < forward && buffer.End >= forward, $"{network}: {buffer.Name} [{buffer.Start}, {buffer.End}]");
                    break;
            }
        }
        // Every convolution's output BN reads is kept for BN's backward, or recomputed by a later pass's backward.
        foreach (var (pass, index) in plan.Passes.Select((p, i) => (p, i)))
        {
            if (lowered.Steps[pass.First].Kind != StepKind.Convolution) continue;
            if (pass.OutputRecomputed)
            {
                Assert.Equal(BufferRole.Recomputed, plan.Buffer(pass.Output).Role);
                Assert.Single(plan.Passes, p => p.Recompute.Contains(index));
                continue;
            }
            var buffer = plan.Buffer(pass.Output);
            if (buffer.Role == BufferRole.View) continue; // the grouped head's W_L writes the logits, which the bias's backward does not read
            Assert.True(buffer.Start <= index && buffer.End >= forward, $"{network}: {buffer.Name} [{buffer.Start}, {buffer.End}]");
        }
    }

    [Fact]
    public void Table1_C64_passes_fuse_each_epilogue_and_share_scratch_and_gradients_by_shape()
    {
        var lowered = NetworkSteps.Lower(NetworkStepsTests.C64);
        var plan = BufferPlan.For(lowered);

        // Per block: W_1, BN_1, the identity P_1 in place, W_2, BN_2, P_2 in one pass, W_3, BN_3, P_3 + skip + ReLU in one.
        var block2 = plan.Passes.Where(p => lowered.Steps[p.First].Layer == "stage1.block2").ToList();
        Assert.Equal(
            [PassKind.Step, PassKind.Step, PassKind.InPlace, PassKind.Step, PassKind.Step, PassKind.Epilogue, PassKind.Step, PassKind.Step, PassKind.Epilogue],
            block2.Select(p => p.Kind));
        Assert.Equal(3, block2[^1].Count);
        Assert.Equal(("scratch_64x32", "stem_out", "stage1_block2_out"), (block2[^1].Input, block2[^1].Skip, block2[^1].Output));
        // BN_1 writes W_2's input directly; the identity P_1 moves nothing. W_2 and W_3 recompute their inputs in
        // backward, so BN_1 and BN_2 (through P_2) write them into one buffer of their shape, for the forward only.
        Assert.Equal("normalized_64x32", block2[1].Output);
        Assert.Equal("normalized_64x32", block2[2].Output);
        Assert.Equal("normalized_64x32", block2[5].Output);
        Assert.True(block2[3].InputRecomputed && block2[6].InputRecomputed);
        Assert.DoesNotContain(plan.Buffers, b => b.Name.EndsWith("_in2", StringComparison.Ordinal) || b.Name.EndsWith("_in3", StringComparison.Ordinal));
        Assert.Equal(BufferRole.Scratch, plan.Buffer("normalized_64x32").Role);
        // What backward keeps per block: W_3's output (for BN_3's backward) and the block's output. W_1 (channel-wise
        // 3x3) and W_2 (K_2 = 8) cost at most 9 multiply-adds an element: their outputs live in one buffer per l and
        // shape, and W_3's backward runs W_1, then W_2 (from BN_1's saved statistics), again first.
        Assert.Equal(2, plan.Buffers.Count(b => b.Role == BufferRole.Activation && b.Name.StartsWith("stage1_block2_", StringComparison.Ordinal)));
        Assert.Equal([true, false, false, true, false, false, false, false, false], block2.Select(p => p.OutputRecomputed));
        Assert.Equal(("recomputed_c1_64x32", "recomputed_c2_64x32"), (block2[0].Output, block2[3].Output));
        var index = plan.Passes.ToList().IndexOf(block2[0]);
        Assert.Equal([index, index + 3], block2[6].Recompute);
        Assert.All(block2.Take(6), p => Assert.Empty(p.Recompute));
        // Stages 2 and 3 have K_2 = 16 and 32: their W_2 costs more than a channel-wise 3x3, so c_2 is kept there. The
        // stride-2 blocks' W_1 output is the only one of its shape (64x16, 128x8): a shared buffer would save nothing.
        Assert.Equal(new[] { "recomputed_c1_64x32", "recomputed_c2_64x32", "recomputed_c1_128x16", "recomputed_c1_256x8" }.Order(),
            plan.Buffers.Where(b => b.Role == BufferRole.Recomputed).Select(b => b.Name).Order());
        Assert.Contains(plan.Buffers, b => b.Name == "stage2_block2_c2" && b.Role == BufferRole.Activation);
        Assert.Contains(plan.Buffers, b => b.Name == "stage2_block1_c1" && b.Role == BufferRole.Activation);

        // Recompute = false keeps all four per block, and the recomputed plan's other passes are the kept plan's.
        var kept = BufferPlan.For(lowered, recompute: false);
        Assert.Equal(4, kept.Buffers.Count(b => b.Role == BufferRole.Activation && b.Name.StartsWith("stage1_block2_", StringComparison.Ordinal)));
        Assert.DoesNotContain(kept.Buffers, b => b.Role == BufferRole.Recomputed);
        Assert.Equal(kept.Passes.Select(p => (p.Kind, p.First, p.Count)), plan.Passes.Select(p => (p.Kind, p.First, p.Count)));

        // One scratch per shape for the whole network, and a handful of gradient buffers per shape.
        Assert.Equal(new[] { "scratch_128x16", "scratch_256x8", "scratch_64x16", "scratch_64x32", "scratch_128x8" }.Order(),
            plan.Buffers.Where(b => b.Role == BufferRole.Scratch && b.Name.StartsWith("scratch_", StringComparison.Ordinal)).Select(b => b.Name).Order());
        Assert.Equal(new[] { "normalized_128x16", "normalized_128x8", "normalized_256x8", "normalized_64x16", "normalized_64x32" }.Order(),
            plan.Buffers.Where(b => b.Name.StartsWith(BufferPlan.NormalizedPrefix, StringComparison.Ordinal)).Select(b => b.Name).Order());
        var gradients = plan.Buffers.Where(b => b.Role == BufferRole.Gradient && b.Name.StartsWith("grad_", StringComparison.Ordinal) && b.Size > 0)
            .GroupBy(b => (b.Channels, b.Size)).ToList();
        Assert.All(gradients, g => Assert.True(g.Count() <= 3, $"{g.Count()} gradient buffers of {g.Key}"));

        // The skip's share from stage1.block2 is added at the input of stage1.block1 after its W_1's backward.
        var w1 = plan.Passes.Single(p => lowered.Steps[p.First].Name == "stage1.block1.conv1");
        Assert.NotNull(w1.Accumulate);
        Assert.Equal(plan.Passes.Single(p => lowered.Steps[p.First].Name == "stage1.block2.shuffle3").GradSkip, w1.Accumulate);
        Assert.True(plan.InputGradientDirect);
        Assert.Equal(BufferPlan.InputGradientBuffer, plan.InputGradient);
    }

    [Fact]
    public void The_projected_skip_has_its_own_scratch_and_its_gradient_reuses_the_dead_output_gradient()
    {
        var lowered = NetworkSteps.Lower(NetworkStepsTests.Projection);
        var plan = BufferPlan.For(lowered);
        var end = plan.Passes.Single(p => lowered.Steps[p.First].Name == "stage2.block2.shuffle2");
        Assert.Equal(PassKind.Epilogue, end.Kind);
        Assert.Equal(("scratch_16x4", "scratch2_16x4"), (end.Input, end.Skip));
        var shortcutBn = plan.Passes.Single(p => lowered.Steps[p.First].Name == "stage2.block2.shortcut.bn");
        // The block output's gradient is dead once the epilogue's backward has read it: the projection's BN reuses it.
        Assert.Equal(end.GradOutput, shortcutBn.GradInput);
        Assert.Equal(end.GradSkip, shortcutBn.GradOutput);
    }

    [Fact]
    public void Without_a_stem_the_input_gradient_is_gathered_in_a_buffer_and_copied()
    {
        var plan = BufferPlan.For(NetworkSteps.Lower(NetworkStepsTests.Stemless));
        Assert.False(plan.InputGradientDirect);
        Assert.StartsWith("grad_4x4_", plan.InputGradient, StringComparison.Ordinal);
        Assert.Equal(BufferPlan.ModelInput, plan.Passes[0].Input);
        Assert.Contains(plan.Buffers, b => b.Name == BufferPlan.InputGradientBuffer);
    }

    [Fact]
    public void The_grouped_head_writes_pooling_and_W_L_through_1x1_views()
    {
        var lowered = NetworkSteps.Lower(NetworkStepsTests.GroupedHead);
        var plan = BufferPlan.For(lowered);
        Assert.Equal("pooled", plan.Buffer("pooled_map").ViewOf);
        Assert.Equal("logits", plan.Buffer("logits_map").ViewOf);
        Assert.Equal("grad_pooled", plan.Buffer("grad_pooled_map").ViewOf);
        var bias = plan.Passes.Single(p => lowered.Steps[p.First].Kind == StepKind.Bias);
        Assert.Equal(("logits_map", "logits", BufferPlan.LossGradientMap), (bias.Input, bias.Output, bias.GradInput));
        Assert.Equal(0, plan.Buffer("logits").Size);
    }

    private static bool Activates(NetworkSteps lowered, Pass pass) =>
        Enumerable.Range(pass.First, pass.Count).Any(i => lowered.Steps[i].Kind == StepKind.Activation);

    private static int Skip(NetworkSteps lowered, Pass pass) =>
        Enumerable.Range(pass.First, pass.Count).Select(i => lowered.Steps[i].Skip).FirstOrDefault(s => s >= 0, -1);
}
