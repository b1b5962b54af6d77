using System.Globalization;
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

        var x = InputName;
        if (plan.Stem is { } stem)
        {
            x = Conv(x, stem.Conv, stem.Name + ".conv");
            x = BatchNorm(x, stem.Name + ".bn");
            x = Relu(x, stem.Name + ".relu");
        }

        var blockInputs = new List<string>(plan.Blocks.Count);
        foreach (var block in plan.Blocks)
        {
            blockInputs.Add(x);
            x = Block(x, block, block.HasSkip ? blockInputs[block.SkipFrom] : null);
        }

        x = Classifier(x, plan.Classifier);
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
    /// h = x; for l: h = P_l(act_l(BN_l(W_l h))); h += skip; final activation: paper eq. 5 with the Figure 5
    /// block's BN placement (IGCV2: ReLU after BN_1 when nonlinear, ReLU at the end; IGCV3, Figure 6: ReLU6
    /// after the channel-wise convolution, linear at the end).
    /// </summary>
    private string Block(string x, BlockPlan block, string? skip)
    {
        var first = graph.Node.Count;
        for (var l = 0; l < block.Convs.Count; l++)
        {
            var n = (l + 1).ToString(CultureInfo.InvariantCulture);
            x = Conv(x, block.Convs[l], block.Name + ".conv" + n);
            x = BatchNorm(x, block.Name + ".bn" + n);
            if (l < block.Convs.Count - 1) x = Activate(x, block.Activations[l], block.Name + ".act" + n);
            x = Shuffle(x, block.Permutations[l], block.Convs[l].OutputSize, block.Name + ".shuffle" + n);
        }
        if (skip is not null && block.Shortcut is { } shortcut)
        {
            skip = BatchNorm(Conv(skip, shortcut, shortcut.Name), block.Name + ".shortcut.bn");
        }
        if (skip is not null) x = Node("Add", block.Name + ".add", [x, skip]);
        x = Activate(x, block.FinalActivation, block.Name + ".relu");
        graph.Node[first].DocString = Describe(model.Plan, block);
        return x;
    }

    private string Classifier(string x, ClassifierPlan classifier)
    {
        x = Node("GlobalAveragePool", "classifier.pool", [x]);
        if (classifier.IsGrouped) return GroupedClassifier(x, classifier);
        x = Node("Flatten", "classifier.flatten", [x], Int("axis", 1));
        var weight = Initializer("classifier.weight", classifier.Classes, classifier.InChannels);
        var bias = Initializer("classifier.bias", classifier.Classes);
        return Node("Gemm", "classifier.fc", [x, weight, bias], OutputName, Float("alpha", 1f), Float("beta", 1f), Int("transB", 1));
    }

    /// <summary>
    /// The IGCV2* head (Table 8) on the pooled [N, C, 1, 1]: W_l, BN_l, P_l for l &lt; L, then W_L with the
    /// classes' bias as the Conv's B, flattened to the logits.
    /// </summary>
    private string GroupedClassifier(string x, ClassifierPlan classifier)
    {
        var first = graph.Node.Count;
        for (var l = 0; l < classifier.L; l++)
        {
            var conv = classifier.Convs[l];
            var n = (l + 1).ToString(CultureInfo.InvariantCulture);
            if (l == classifier.L - 1)
            {
                x = Conv(x, conv, "classifier.conv" + n, Initializer("classifier.bias", classifier.Classes));
                break;
            }
            x = Conv(x, conv, "classifier.conv" + n);
            x = BatchNorm(x, "classifier.bn" + n);
            x = Shuffle(x, classifier.Permutations[l], 1, "classifier.shuffle" + n);
        }
        graph.Node[first].DocString = Invariant($"classifier (IGCV2*, Table 8): {classifier.Heading}, 1x1 group convolutions {classifier.InChannels} -> {classifier.Classes}; ") +
            string.Join(", ", classifier.Permutations.Select((p, l) => Invariant($"P_{l + 1}: {p.Formula}")));
        return Node("Flatten", "classifier.flatten", [x], OutputName, Int("axis", 1));
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

    private string Relu(string x, string name) => Node("Relu", name, [x]);

    /// <summary>Relu, or ReLU6 as Clip(x, 0, 6) (opset 11+ takes the bounds as inputs), or nothing.</summary>
    private string Activate(string x, Activation activation, string name) => activation switch
    {
        Activation.Relu => Relu(x, name),
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
