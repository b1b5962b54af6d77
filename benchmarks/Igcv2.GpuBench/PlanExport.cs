using System.Text.Json;
using System.Text.Json.Nodes;
using Igcv2.Design;

namespace Igcv2.GpuBench;

/// <summary>
/// What the PyTorch side (benchmarks/gpu/igcv2_torch.py) needs to rebuild a network without a second copy of
/// the layout logic: the weights (<c>model.SaveWeights</c>), the forward pass as a flat list of steps in the
/// generated model's order (the ONNX exporter's walk: W_l, BN_l, the Figure 5 ReLU, P_l; the skip's add before
/// the block's ReLU), and a fixed input with the logits this program computed for it in inference mode.
/// </summary>
public static class PlanExport
{
    public const int FormatVersion = 1;
    public const int ReferenceBatch = 8;

    public static string WeightsPath(string dir, BenchNetwork network) => Path.Combine(dir, network.ClassName + ".safetensors");

    public static string PlanPath(string dir, BenchNetwork network) => Path.Combine(dir, network.ClassName + ".plan.json");

    public static string ReferencePath(string dir, BenchNetwork network) => Path.Combine(dir, network.ClassName + ".io.safetensors");

    /// <summary>
    /// Builds the model on <paramref name="device"/>, runs two training-mode forwards (so that the BN running
    /// statistics are not the initial 0 and 1), then writes the weights, the plan and the reference input/logits.
    /// </summary>
    public static void Write(Device device, BenchNetwork network, string dir, int seed = 3)
    {
        Directory.CreateDirectory(dir);
        int n = ReferenceBatch;
        using var model = network.Create(device, n, seed);
        using var x = TensorUtil.Random(device, seed + 100, n, network.InputChannels, network.InputSize, network.InputSize);
        model.Forward(x, training: true);
        model.Forward(x, training: true);
        var logits = model.Forward(x, training: false).ToArray();
        model.SaveWeights(WeightsPath(dir, network));
        File.WriteAllText(PlanPath(dir, network), ToJson(network.ClassName, model.Plan).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var io = new Dictionary<string, (int[] shape, float[] data)>
        {
            ["input"] = ([n, network.InputChannels, network.InputSize, network.InputSize], x.ToArray()),
            ["logits"] = ([n, network.Classes], logits),
        };
        SafeTensors.Save(ReferencePath(dir, network), io, new Dictionary<string, string> { ["device"] = device.ToString(), ["mode"] = "inference" });
    }

    /// <summary>The forward pass as steps: conv, bn, relu, shuffle, save (a block's input), add (a saved input), pool, linear.</summary>
    public static JsonObject ToJson(string className, NetworkPlan plan)
    {
        var steps = new JsonArray();
        if (plan.Stem is { } stem)
        {
            steps.Add(Conv(stem.Conv));
            steps.Add(Bn(stem.Name + ".bn", stem.Conv.OutChannels));
            steps.Add(new JsonObject { ["op"] = "relu" });
        }
        var saved = plan.Blocks.Where(b => b.HasSkip).Select(b => b.SkipFrom).ToHashSet();
        for (var i = 0; i < plan.Blocks.Count; i++)
        {
            var block = plan.Blocks[i];
            if (saved.Contains(i)) steps.Add(new JsonObject { ["op"] = "save", ["slot"] = i });
            for (var l = 0; l < block.Convs.Count; l++)
            {
                var conv = block.Convs[l];
                steps.Add(Conv(conv));
                steps.Add(Bn($"{block.Name}.bn{l + 1}", conv.OutChannels));
                if (l < block.Convs.Count - 1 && Op(block.Activations[l]) is { } activation) steps.Add(new JsonObject { ["op"] = activation });
                var p = block.Permutations[l];
                if (!p.IsIdentity) steps.Add(new JsonObject { ["op"] = "shuffle", ["channels"] = p.Channels, ["groups"] = p.Branches });
            }
            if (block.HasSkip) steps.Add(new JsonObject { ["op"] = "add", ["slot"] = block.SkipFrom });
            if (Op(block.FinalActivation) is { } final) steps.Add(new JsonObject { ["op"] = final });
        }
        steps.Add(new JsonObject { ["op"] = "global_avg_pool" });
        steps.Add(new JsonObject { ["op"] = "linear", ["name"] = "classifier", ["in_features"] = plan.Classifier.InChannels, ["out_features"] = plan.Classifier.Classes });
        return new JsonObject
        {
            ["format"] = "igcv2.plan",
            ["format_version"] = FormatVersion,
            ["network"] = className,
            ["input"] = new JsonArray(plan.Spec.InputChannels, plan.Spec.InputSize, plan.Spec.InputSize),
            ["classes"] = plan.Spec.Classes,
            ["parameters"] = plan.ParameterCount,
            ["multiply_adds"] = plan.MultiplyAdds,
            ["bn_epsilon"] = Igcv2.Models.BatchNormLayer.Epsilon,
            ["bn_momentum"] = Igcv2.Models.BatchNormLayer.Momentum,
            ["steps"] = steps,
        };
    }

    private static JsonObject Conv(GroupConvPlan conv) => new()
    {
        ["op"] = "conv",
        ["name"] = conv.Name,
        ["in_channels"] = conv.InChannels,
        ["out_channels"] = conv.OutChannels,
        ["kernel"] = conv.KernelSize,
        ["stride"] = conv.Stride,
        ["padding"] = conv.Padding,
        ["groups"] = conv.Branches,
    };

    private static JsonObject Bn(string name, int channels) => new() { ["op"] = "bn", ["name"] = name, ["channels"] = channels };

    /// <summary>The step name of an activation: "relu", "relu6", or none.</summary>
    private static string? Op(Igcv2.Design.Activation activation) => activation switch
    {
        Igcv2.Design.Activation.Relu => "relu",
        Igcv2.Design.Activation.Relu6 => "relu6",
        _ => null,
    };
}
