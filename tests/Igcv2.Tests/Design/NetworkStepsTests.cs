using Igcv2.Design;

namespace Igcv2.Tests.Design;

/// <summary>The lowering: one list of steps per plan, in the order the generated forward pass runs them.</summary>
public sealed class NetworkStepsTests
{
    /// <summary>Table 1's IGCV2 (C64) at D = 20 for CIFAR-100.</summary>
    internal static readonly NetworkPlan C64 = Plan(3, 32, 100,
        new StemSpec(64),
        new StageSpec(64, 6, EquatableArray.Create(1, 8, 8)),
        new StageSpec(128, 6, EquatableArray.Create(1, 16, 8), Stride: 2),
        new StageSpec(256, 6, EquatableArray.Create(1, 32, 8), Stride: 2));

    /// <summary>The export tests' projection network: the widening, downsampling pair's skip is a 1x1 stride-2 conv and BN.</summary>
    internal static readonly NetworkPlan Projection = Plan(3, 8, 5,
        new StemSpec(8),
        new StageSpec(8, 2, EquatableArray.Create(2, 4)),
        new StageSpec(16, 2, EquatableArray.Create(4, 4), Stride: 2, Projection: true, WidenFirst: true));

    internal static readonly NetworkPlan Igcv3 = Plan(2, 6, 3,
        new StemSpec(8),
        new Igcv3StageSpec(12, 2, Expansion: 3, G1: 2, G2: 2, Stride: 2),
        new Igcv3StageSpec(12, 1, Expansion: 2, G1: 1, G2: 1, Nonlinear: true));

    internal static readonly NetworkPlan GroupedHead = Plan(3, 6, 16,
        new StemSpec(64, Stride: 2),
        new StageSpec(64, 1, EquatableArray.Create(1, 8, 8), Nonlinear: true, SkipEvery: 0),
        new ClassifierSpec(EquatableArray.Create(8, 8)));

    internal static readonly NetworkPlan Stemless = Plan(4, 4, 2,
        new StageSpec(4, 2, EquatableArray.Create(1, 2, 2)));

    public static TheoryData<string> All => new() { nameof(C64), nameof(Projection), nameof(Igcv3), nameof(GroupedHead), nameof(Stemless) };

    internal static NetworkPlan ByName(string name) => name switch
    {
        nameof(C64) => C64,
        nameof(Projection) => Projection,
        nameof(Igcv3) => Igcv3,
        nameof(GroupedHead) => GroupedHead,
        _ => Stemless,
    };

    [Fact]
    public void Table1_C64_lowers_to_the_stem_eighteen_blocks_seven_skips_and_the_head()
    {
        var lowered = NetworkSteps.Lower(C64);

        // Stem 3, per block W_l BN_l P_l for l = 1..3 and the ReLU (10), a skip in 7 of the 18 (the two widening pairs
        // lose theirs), pooling, FC and the loss.
        Assert.Equal(3 + 18 * 10 + 7 + 3, lowered.Steps.Count);
        Assert.Equal(["stem.conv", "stem.bn", "stem.relu"], lowered.Steps.Take(3).Select(s => s.Name));
        Assert.Equal(
            ["conv1", "bn1", "shuffle1", "conv2", "bn2", "shuffle2", "conv3", "bn3", "shuffle3", "relu"],
            Layer(lowered, "stage1.block1").Select(s => s.Name["stage1.block1.".Length..]));
        Assert.Equal(
            ["conv1", "bn1", "shuffle1", "conv2", "bn2", "shuffle2", "conv3", "bn3", "shuffle3", "add", "relu"],
            Layer(lowered, "stage1.block2").Select(s => s.Name["stage1.block2.".Length..]));
        Assert.Equal(7, lowered.Steps.Count(s => s.Kind == StepKind.SkipAdd));
        Assert.DoesNotContain(lowered.Steps, s => s.OnSkipPath);
        Assert.Equal([StepKind.GlobalAveragePool, StepKind.Linear, StepKind.Loss], lowered.Steps.TakeLast(3).Select(s => s.Kind));

        // P_1 after the channel-wise 3x3 (64 branches of 1) is the identity; P_2, P_3 shuffle 8 branches of 8.
        var shuffles = Layer(lowered, "stage1.block1").Where(s => s.Kind == StepKind.Permutation).Select(s => s.Permutation!).ToList();
        Assert.Equal([true, false, false], shuffles.Select(p => p.IsIdentity));
        Assert.Equal("out[j*8 + g] = in[g*8 + j]", shuffles[1].Formula);

        // The skip of stage1.block2 is the input of stage1.block1: the stem's ReLU output.
        var add = Layer(lowered, "stage1.block2").Single(s => s.Kind == StepKind.SkipAdd);
        Assert.Equal("stem.relu", lowered.Value(add.Skip).Name);
        Assert.Equal("logits", lowered.Logits.Name);
        Assert.Equal((100, 0), (lowered.Logits.Channels, lowered.Logits.Size));
    }

    [Fact]
    public void Every_step_reads_values_written_before_it_and_writes_a_new_one()
    {
        foreach (var name in new[] { nameof(C64), nameof(Projection), nameof(Igcv3), nameof(GroupedHead), nameof(Stemless) })
        {
            var lowered = NetworkSteps.Lower(ByName(name));
            var written = new HashSet<int> { NetworkSteps.InputValue };
            foreach (var step in lowered.Steps)
            {
                Assert.Contains(step.Input, written);
                if (step.Skip >= 0) Assert.Contains(step.Skip, written);
                if (step.Kind == StepKind.Loss) continue;
                Assert.True(written.Add(step.Output), $"{name}: {step.Name} writes value {step.Output} twice");
                Assert.Equal(step.Output, lowered.Value(step.Output).Id);
            }
            Assert.Equal(lowered.Values.Count, written.Count);
        }
    }

    [Fact]
    public void A_projection_block_convolves_and_normalises_the_skip_after_BN_L_and_adds_it_after_P_L()
    {
        var lowered = NetworkSteps.Lower(Projection);
        var block = Layer(lowered, "stage2.block2").ToList();
        Assert.Equal(
            ["conv1", "bn1", "shuffle1", "conv2", "bn2", "shortcut.conv", "shortcut.bn", "shuffle2", "add", "relu"],
            block.Select(s => s.Name["stage2.block2.".Length..]));
        var shortcut = block.Single(s => s.Kind == StepKind.Convolution && s.OnSkipPath);
        Assert.Equal(Projection.Blocks[3].Shortcut, shortcut.Conv);
        Assert.Equal((8, 16, 2), (shortcut.Conv!.InChannels, shortcut.Conv.OutChannels, shortcut.Conv.Stride));
        // It reads the input of stage2.block1, the output of stage1.block2, and the add takes its BN's output.
        Assert.Equal("stage1.block2.relu", lowered.Value(shortcut.Input).Name);
        var add = block.Single(s => s.Kind == StepKind.SkipAdd);
        Assert.Equal("stage2.block2.shortcut.bn", lowered.Value(add.Skip).Name);
        Assert.Equal("stage2.block2.shuffle2", lowered.Value(add.Input).Name);
        Assert.Equal("stage2.block2.shortcut.bn", block.Single(s => s.Kind == StepKind.BatchNorm && s.OnSkipPath).Prefix);
        // The first block of the pair widens in W_1 and has no skip of its own.
        Assert.DoesNotContain(Layer(lowered, "stage2.block1"), s => s.Kind == StepKind.SkipAdd);
    }

    [Fact]
    public void An_IGCV3_block_has_ReLU6_after_its_channel_wise_convolution_ends_linear_and_skips_when_it_keeps_its_shape()
    {
        var lowered = NetworkSteps.Lower(Igcv3);
        Assert.Equal(
            ["conv1", "bn1", "shuffle1", "conv2", "bn2", "act2", "shuffle2", "conv3", "bn3", "shuffle3"],
            Layer(lowered, "stage1.block1").Select(s => s.Name["stage1.block1.".Length..]));
        Assert.Equal(Activation.Relu6, Layer(lowered, "stage1.block1").Single(s => s.Kind == StepKind.Activation).Activation);
        Assert.Equal((3, 1), (Layer(lowered, "stage1.block1").ElementAt(3).Conv!.KernelSize, Layer(lowered, "stage1.block1").ElementAt(3).Conv!.K));

        // Block 2 keeps the shape: it adds its own input after P_3 and stays linear.
        var second = Layer(lowered, "stage1.block2").ToList();
        Assert.Equal(StepKind.SkipAdd, second[^1].Kind);
        Assert.Equal(second[0].Input, second[^1].Skip);

        // The nonlinear stage has ReLU6 after the expansion too.
        Assert.Equal(["stage2.block1.act1", "stage2.block1.act2"], Layer(lowered, "stage2.block1").Where(s => s.Kind == StepKind.Activation).Select(s => s.Name));
    }

    [Fact]
    public void The_grouped_head_is_pooling_then_W_l_BN_l_P_l_then_W_L_and_the_bias()
    {
        var lowered = NetworkSteps.Lower(GroupedHead);
        var head = Layer(lowered, "classifier").ToList();
        Assert.Equal(["classifier.pool", "classifier.conv1", "classifier.bn1", "classifier.shuffle1", "classifier.conv2", "classifier.bias", "loss"], head.Select(s => s.Name));
        Assert.Equal((64, 1), (lowered.Value(head[0].Output).Channels, lowered.Value(head[0].Output).Size));
        Assert.Equal(GroupedHead.Classifier.Convs[1], head[4].Conv);
        Assert.Equal("classifier", head[5].Prefix);
        Assert.Equal(head[4].Output, head[5].Input);
        Assert.Equal((16, 0), (lowered.Logits.Channels, lowered.Logits.Size));
        Assert.False(head[3].Permutation!.IsIdentity);
    }

    [Fact]
    public void Every_tensor_of_a_generated_model_is_named_by_exactly_one_step()
    {
        using var device = Device.Create(DeviceKind.Cpu);
        using var model = new Export.ExportProjectionNet(device, 1);
        var lowered = NetworkSteps.Lower(Export.ExportProjectionNet.Plan);
        var named = lowered.Steps.Where(s => s.HasTensors).SelectMany(s => s.Kind switch
        {
            StepKind.Convolution => new[] { s.Prefix + ".weight" },
            StepKind.BatchNorm => [s.Prefix + ".weight", s.Prefix + ".bias", s.Prefix + ".running_mean", s.Prefix + ".running_var"],
            StepKind.Linear => [s.Prefix + ".weight", s.Prefix + ".bias"],
            _ => [s.Prefix + ".bias"],
        }).ToList();
        Assert.Equal(named.Count, named.Distinct().Count());
        Assert.Equal(model.Parameters.Concat(model.Buffers).Select(p => p.Name).Order(), named.Order());
    }

    [Fact]
    public void Lowering_is_equatable_the_same_plan_gives_equal_steps_and_a_different_one_does_not()
    {
        var again = Plan(3, 32, 100,
            new StemSpec(64),
            new StageSpec(64, 6, EquatableArray.Create(1, 8, 8)),
            new StageSpec(128, 6, EquatableArray.Create(1, 16, 8), Stride: 2),
            new StageSpec(256, 6, EquatableArray.Create(1, 32, 8), Stride: 2));
        var first = NetworkSteps.Lower(C64);
        var second = NetworkSteps.Lower(again);
        Assert.NotSame(first, second);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        Assert.Equal(BufferPlan.For(first), BufferPlan.For(second));

        var otherK = Plan(3, 32, 100,
            new StemSpec(64),
            new StageSpec(64, 6, EquatableArray.Create(1, 8, 8)),
            new StageSpec(128, 6, EquatableArray.Create(1, 16, 8), Stride: 2),
            new StageSpec(256, 6, EquatableArray.Create(1, 16, 16), Stride: 2));
        Assert.NotEqual(first, NetworkSteps.Lower(otherK));
        Assert.NotEqual(first, NetworkSteps.Lower(Projection));
        // One step changed is enough to tell them apart.
        var edited = first with { Steps = first.Steps.Select((s, i) => i == 5 ? s with { Activation = Activation.Relu6 } : s).ToEquatableArray() };
        Assert.NotEqual(first, edited);
    }

    private static IEnumerable<Step> Layer(NetworkSteps lowered, string layer) => lowered.Steps.Where(s => s.Layer == layer);

    private static NetworkPlan Plan(int channels, int size, int classes, params LayerSpec[] layers) =>
        NetworkPlan.Create(new NetworkSpec(channels, size, classes, EquatableArray.Create(layers)));
}
