using System.Text.Json;
using System.Text.Json.Nodes;
using Igcv2.Design;

namespace Igcv2.GpuBench;

/// <summary>
/// What the PyTorch side (benchmarks/gpu/igcv2_torch.py) needs to rebuild a network without a second copy of
/// the layout logic: the weights (<c>model.SaveWeights</c>), the forward pass as the lowered steps
/// (<see cref="NetworkSteps"/>, the list the generator prints and the ONNX export writes: W_l, BN_l, the activation,
/// P_l, the skip's add, through the projection shortcut when it has one, pooling and the real head, fully connected or
/// grouped), each reading and writing values by id, and a fixed input with the logits this program computed for it in
/// inference mode.
/// </summary>
public static class PlanExport
{
    public const int FormatVersion = 2;
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

    /// <summary>
    /// The forward pass as steps: conv, bn, relu, relu6, shuffle, add, global_avg_pool (to [n, C, 1, 1]), linear, bias
    /// (the grouped head's, which also flattens the 1x1 logits). Each reads <c>in</c> (and an add <c>skip</c>) and writes
    /// <c>out</c>, value ids; value 0 is the input, <c>output</c> the logits. Identity permutations are left out (their
    /// output is their input); so is the loss, which the script computes itself.
    /// </summary>
    public static JsonObject ToJson(string className, NetworkPlan plan)
    {
        var lowered = NetworkSteps.Lower(plan);
        var id = Enumerable.Range(0, lowered.Values.Count).ToArray();
        var steps = new JsonArray();
        foreach (var step in lowered.Steps)
        {
            if (step.Kind == StepKind.Loss) continue;
            if (step.Permutation is { IsIdentity: true })
            {
                id[step.Output] = id[step.Input];
                continue;
            }
            var output = lowered.Value(step.Output);
            var json = step.Kind switch
            {
                StepKind.Convolution => Conv(step.Conv!),
                StepKind.BatchNorm => new JsonObject { ["op"] = "bn", ["name"] = step.Prefix, ["channels"] = output.Channels },
                StepKind.Activation => new JsonObject { ["op"] = Op(step.Activation) },
                StepKind.Permutation => new JsonObject { ["op"] = "shuffle", ["channels"] = step.Permutation!.Channels, ["groups"] = step.Permutation.Branches },
                StepKind.SkipAdd => new JsonObject { ["op"] = "add", ["skip"] = id[step.Skip] },
                StepKind.GlobalAveragePool => new JsonObject { ["op"] = "global_avg_pool" },
                StepKind.Linear => new JsonObject { ["op"] = "linear", ["name"] = step.Prefix, ["in_features"] = lowered.Value(step.Input).Channels, ["out_features"] = output.Channels },
                StepKind.Bias => new JsonObject { ["op"] = "bias", ["name"] = step.Prefix, ["channels"] = output.Channels },
                _ => throw new NotSupportedException($"The plan export has no op for a {step.Kind} step."),
            };
            json["step"] = step.Name;
            json["in"] = id[step.Input];
            json["out"] = id[step.Output];
            steps.Add(json);
        }
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
            ["output"] = id[lowered.Logits.Id],
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

    /// <summary>The op of an activation step: "relu" or "relu6".</summary>
    private static string Op(Igcv2.Design.Activation activation) => activation switch
    {
        Igcv2.Design.Activation.Relu => "relu",
        Igcv2.Design.Activation.Relu6 => "relu6",
        _ => throw new NotSupportedException($"No op for the activation {activation}."),
    };
}
