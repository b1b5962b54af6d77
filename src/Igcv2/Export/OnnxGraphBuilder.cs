using System.Runtime.InteropServices;
using Google.Protobuf;
using Igcv2.Design;
using Onnx;

namespace Igcv2;

/// <summary>
/// Writes a model's inference graph as ONNX, layer by layer from its <see cref="NetworkPlan"/>: the same
/// straight-line sequence the generated forward pass runs, in standard ops only. Node names follow the
/// parameter names (<c>stage1.block1.conv2</c>, <c>stage1.block1.bn2</c>, <c>stage1.block1.shuffle2</c>);
/// each node's output tensor carries its node's name.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    public const string InputName = "input";
    public const string OutputName = "logits";

    /// <summary>The epsilon of every BN layer the generated models run.</summary>
    public const float BatchNormEpsilon = 1e-5f;

    private readonly IModel model;
    private readonly OnnxExportOptions options;
    private readonly GraphProto graph = new();
    private readonly Dictionary<string, Parameter> tensors = new(StringComparer.Ordinal);
    private readonly HashSet<string> exported = new(StringComparer.Ordinal);

    private OnnxGraphBuilder(IModel model, OnnxExportOptions options)
    {
        this.model = model;
        this.options = options;
        foreach (var p in model.Parameters.Concat(model.Buffers))
        {
            if (!tensors.TryAdd(p.Name, p))
            {
                throw new InvalidOperationException($"The model has two tensors named '{p.Name}'.");
            }
        }
    }

    public static ModelProto Build(IModel model, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Opset < OnnxExportOptions.MinimumOpset)
        {
            throw new ArgumentException($"Opset {options.Opset} is too old: the exporter writes opset {OnnxExportOptions.MinimumOpset} or later.", nameof(options));
        }
        if (string.IsNullOrWhiteSpace(options.BatchDimension))
        {
            throw new ArgumentException("The batch dimension needs a name.", nameof(options));
        }
        return new OnnxGraphBuilder(model, options).Build();
    }

    private ModelProto Build()
    {
        var plan = model.Plan;
        var spec = plan.Spec;
        graph.Name = options.GraphName ?? model.GetType().Name;
        graph.DocString = Invariant($"IGCV2 network (Xie et al., CVPR 2018): {spec.InputChannels}x{spec.InputSize}x{spec.InputSize} input, {plan.Blocks.Count} blocks, {spec.Classes} classes, {plan.ParameterCount} parameters, {plan.MultiplyAdds} multiply-adds per image. Inference graph: BN uses the running statistics.");
        graph.Input.Add(FloatValue(InputName, spec.InputChannels, spec.InputSize, spec.InputSize));

        Steps(NetworkSteps.Lower(plan));
        graph.Output.Add(FloatValue(OutputName, spec.Classes));

        var unused = tensors.Keys.Where(name => !exported.Contains(name)).ToList();
        if (unused.Count > 0)
        {
            // A tensor the plan does not place belongs to a layer this exporter does not know: refuse
            // rather than write a graph that silently computes something else.
            throw new NotSupportedException($"The ONNX exporter does not know where these model tensors go: {string.Join(", ", unused)}.");
        }

        var result = new ModelProto
        {
            IrVersion = 7,
            ProducerName = "Igcv2Gen",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            Domain = "igcv2",
            ModelVersion = 1,
            DocString = options.Description ?? "",
            Graph = graph,
        };
        result.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        result.MetadataProps.Add(new StringStringEntryProto { Key = "igcv2.blocks", Value = string.Join("; ", plan.Blocks.Select(b => Describe(plan, b))) });
        return result;
    }

    /// <summary>
    /// One node (or a few standard ones) per lowered step, in the steps' order: W_l as Conv, BN_l as
    /// BatchNormalization with the running statistics, ReLU, ReLU6 as Clip, P_l as Reshape/Transpose/Reshape (or
    /// Gather; none for the identity), the skip as Add, GlobalAveragePool, then Flatten and Gemm for the fully
    /// connected head, or the grouped head's last Conv with the bias as its B. The loss is not part of the inference graph.
    /// </summary>
    private void Steps(NetworkSteps lowered)
    {
        var plan = model.Plan;
        var tensorOf = new string[lowered.Values.Count];
        tensorOf[NetworkSteps.InputValue] = InputName;
        string? layer = null;
        for (var i = 0; i < lowered.Steps.Count; i++)
        {
            var step = lowered.Steps[i];
            var x = tensorOf[step.Input];
            var first = graph.Node.Count;
            string y;
            switch (step.Kind)
            {
                case StepKind.Convolution:
                    // The grouped head's W_L takes the classes' bias as its B (Table 8: the bias in BN_L's place).
                    var bias = i + 1 < lowered.Steps.Count && lowered.Steps[i + 1] is { Kind: StepKind.Bias } next && next.Input == step.Output
                        ? Initializer(next.Prefix + ".bias", lowered.Value(next.Output).Channels)
                        : null;
                    y = Conv(x, step.Conv!, step.Name, bias);
                    break;
                case StepKind.BatchNorm:
                    y = BatchNorm(x, step.Prefix!);
                    break;
                case StepKind.Activation:
                    y = Activate(x, step.Activation, step.Name);
                    break;
                case StepKind.Permutation:
                    y = Shuffle(x, step.Permutation!, lowered.Value(step.Output).Size, step.Name);
                    break;
                case StepKind.SkipAdd:
                    y = Node("Add", step.Name, [x, tensorOf[step.Skip]]);
                    break;
                case StepKind.GlobalAveragePool:
                    y = Node("GlobalAveragePool", step.Name, [x]);
                    break;
                case StepKind.Linear:
                    var flat = Node("Flatten", step.Layer + ".flatten", [x], Int("axis", 1));
                    var weight = Initializer(step.Prefix + ".weight", lowered.Value(step.Output).Channels, lowered.Value(step.Input).Channels);
                    var b = Initializer(step.Prefix + ".bias", lowered.Value(step.Output).Channels);
                    y = Node("Gemm", step.Name, [flat, weight, b], OutputName, Float("alpha", 1f), Float("beta", 1f), Int("transB", 1));
                    break;
                case StepKind.Bias:
                    y = Node("Flatten", step.Layer + ".flatten", [x], OutputName, Int("axis", 1));
                    break;
                case StepKind.Loss:
                    continue;
                default:
                    throw new NotSupportedException($"The ONNX exporter has no node for a {step.Kind} step.");
            }
            tensorOf[step.Output] = y;
            if (step.Layer != layer && graph.Node.Count > first)
            {
                // Each block's first node says what the block is.
                layer = step.Layer;
                if (plan.Blocks.FirstOrDefault(bl => bl.Name == layer) is { } block) graph.Node[first].DocString = Describe(plan, block);
            }
            if (step.Kind == StepKind.Convolution && step.Layer == plan.Classifier.Name && step.L == 1)
            {
                var head = plan.Classifier;
                graph.Node[first].DocString = Invariant($"classifier (IGCV2*, Table 8): {head.Heading}, 1x1 group convolutions {head.InChannels} -> {head.Classes}; ") +
                    string.Join(", ", head.Permutations.Select((p, l) => Invariant($"P_{l + 1}: {p.Formula}")));
            }
        }
    }

    private string Conv(string x, GroupConvPlan conv, string name, string? bias = null)
    {
        var weight = Initializer(conv.Name + ".weight", conv.WeightShape);
        var pad = conv.Padding;
        return Node("Conv", name, bias is null ? [x, weight] : [x, weight, bias],
            Ints("kernel_shape", conv.KernelSize, conv.KernelSize),
            Ints("strides", conv.Stride, conv.Stride),
            Ints("pads", pad, pad, pad, pad),
            Ints("dilations", 1, 1),
            Int("group", conv.Branches));
    }

    private string BatchNorm(string x, string name)
    {
        var channels = tensors.TryGetValue(name + ".weight", out var gamma) && gamma.Shape is [var c]
            ? c
            : throw new InvalidOperationException($"The model has no BN scale '{name}.weight' of rank 1.");
        string[] inputs =
        [
            x,
            Initializer(name + ".weight", channels),
            Initializer(name + ".bias", channels),
            Initializer(name + ".running_mean", channels),
            Initializer(name + ".running_var", channels),
        ];
        return Node("BatchNormalization", name, inputs, Float("epsilon", BatchNormEpsilon));
    }

    /// <summary>Relu, or ReLU6 as Clip(x, 0, 6) (opset 11+ takes the bounds as inputs), or nothing.</summary>
    private string Activate(string x, Activation activation, string name) => activation switch
    {
        Activation.Relu => Node("Relu", name, [x]),
        Activation.Relu6 => Node("Clip", name, [x, Constant(name + ".min", FloatScalar(0f)), Constant(name + ".max", FloatScalar(6f))]),
        _ => x,
    };

    private static TensorProto FloatScalar(float value)
    {
        var tensor = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float };
        tensor.FloatData.Add(value);
        return tensor;
    }

    /// <summary>P_l: <c>out[j*G + g] = in[g*(C/G) + j]</c> over the G branches of the convolution before it.</summary>
    private string Shuffle(string x, PermutationPlan permutation, int size, string name)
    {
        if (permutation.IsIdentity) return x;
        var doc = "P: " + permutation.Formula;
        if (options.Shuffle == OnnxShuffle.Gather)
        {
            var indices = Constant(name + ".indices", Int64Tensor(permutation.Source().Select(i => (long)i).ToArray(), permutation.Channels));
            return WithDoc(Node("Gather", name, [x, indices], Int("axis", 1)), doc);
        }

        // [N, C, H, W] -> [N, G, C/G, H*W] -> [N, C/G, G, H*W] -> [N, C, H, W]; 0 keeps the batch dimension.
        var split = Constant(name + ".split_shape", Int64Tensor([0, permutation.Branches, permutation.PerBranch, (long)size * size], 4));
        var merge = Constant(name + ".merge_shape", Int64Tensor([0, permutation.Channels, size, size], 4));
        var grouped = Node("Reshape", name + ".split", [x, split]);
        var swapped = Node("Transpose", name + ".transpose", [grouped], Ints("perm", 0, 2, 1, 3));
        return WithDoc(Node("Reshape", name, [swapped, merge]), doc);
    }

    private string WithDoc(string output, string doc)
    {
        graph.Node[^1].DocString = doc;
        return output;
    }

    private string Constant(string name, TensorProto value)
    {
        value.Name = name;
        return Node("Constant", name, [], new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
    }

    private string Node(string op, string name, string[] inputs, params AttributeProto[] attributes) =>
        Node(op, name, inputs, name, attributes);

    private string Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.Add(inputs);
        node.Output.Add(output);
        node.Attribute.Add(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>Adds the model tensor <paramref name="name"/> as an initializer after checking its shape against the plan's.</summary>
    private string Initializer(string name, params int[] shape)
    {
        if (!tensors.TryGetValue(name, out var parameter))
        {
            throw new InvalidOperationException($"The plan needs a tensor '{name}' [{string.Join(", ", shape)}] that the model does not have.");
        }
        if (!parameter.Shape.SequenceEqual(shape))
        {
            throw new InvalidOperationException($"'{name}' is [{string.Join(", ", parameter.Shape)}] in the model but the plan needs [{string.Join(", ", shape)}].");
        }
        if (!exported.Add(name))
        {
            throw new InvalidOperationException($"The plan uses '{name}' twice.");
        }
        graph.Initializer.Add(FloatTensor(name, parameter.GetValues(), shape));
        return name;
    }

    private static TensorProto FloatTensor(string name, float[] values, int[] shape)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(shape.Select(d => (long)d));
        tensor.RawData = ByteString.CopyFrom(LittleEndian(values));
        return tensor;
    }

    private static TensorProto Int64Tensor(long[] values, params long[] shape)
    {
        var tensor = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(shape);
        tensor.Int64Data.Add(values);
        return tensor;
    }

    /// <summary>ONNX raw_data is little-endian whatever the host.</summary>
    private static byte[] LittleEndian(float[] values)
    {
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            for (var i = 0; i < bytes.Length; i += sizeof(float)) Array.Reverse(bytes, i, sizeof(float));
        }
        return bytes;
    }

    private ValueInfoProto FloatValue(string name, params int[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = options.BatchDimension });
        shape.Dim.Add(dims.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
            },
        };
    }

    private static string Describe(NetworkPlan plan, BlockPlan block) =>
        Invariant($"{block.Name} ({block.Kind}): {block.Heading}, {block.InChannels} -> {block.OutChannels} channels, {block.InputSize}x{block.InputSize} -> {block.OutputSize}x{block.OutputSize}") +
        (block.HasSkip ? (block.Shortcut is null ? ", identity skip" : ", 1x1 projection skip with BN") + " from the input of " + plan.Blocks[block.SkipFrom].Name : "") +
        "; " + string.Join(", ", block.Permutations.Select((p, l) => Invariant($"P_{l + 1}: {p.Formula}")));

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
