using System.Runtime.InteropServices;
using Igcv2.Design;
using Onnx;

namespace Igcv2.Tests.Export;

public class OnnxStructureTests(CpuDeviceFixture fixture) : IClassFixture<CpuDeviceFixture>
{
    private ReferenceModel SmallNet() => new(fixture.Device, NetworkPlan.Create(ExportSmallNet.Spec), batchSize: 2, seed: 1);

    [Fact]
    public void Graph_uses_only_standard_inference_ops_with_one_conv_per_group_convolution()
    {
        using var model = SmallNet();
        var graph = OnnxTestSupport.Parse(Onnx.ToBytes(model)).Graph;

        var ops = graph.Node.Select(n => n.OpType).ToHashSet();
        Assert.Equal(
            new[] { "Add", "BatchNormalization", "Constant", "Conv", "Flatten", "Gemm", "GlobalAveragePool", "Relu", "Reshape", "Transpose" },
            ops.Order(StringComparer.Ordinal));

        var plan = model.Plan;
        var convs = new[] { plan.Stem!.Conv }.Concat(plan.Blocks.SelectMany(b => b.Convs)).ToList();
        var convNodes = graph.Node.Where(n => n.OpType == "Conv").ToList();
        Assert.Equal(convs.Count, convNodes.Count);
        for (var i = 0; i < convs.Count; i++)
        {
            Assert.Equal(convs[i].Name + ".weight", convNodes[i].Input[1]);
            Assert.Equal(convs[i].Branches, Attribute(convNodes[i], "group").I);
            Assert.Equal([convs[i].Stride, convs[i].Stride], Attribute(convNodes[i], "strides").Ints);
            Assert.Equal(Enumerable.Repeat((long)convs[i].Padding, 4), Attribute(convNodes[i], "pads").Ints);
        }
        Assert.All(graph.Node.Where(n => n.OpType == "BatchNormalization"), n => Assert.Equal(1e-5f, Attribute(n, "epsilon").F));
        Assert.Equal(1, Attribute(graph.Node.Single(n => n.OpType == "Gemm"), "transB").I);
        // One skip: stage 1's pair keeps its shape; stage 2's pair spans the widening 8x8x8 -> 16x4x4, so the plan drops it.
        Assert.Equal(["stage1.block2.add"], graph.Node.Where(n => n.OpType == "Add").Select(n => n.Name));
        // ...and adds the input of the pair (the stem output) to the last shuffle of its second block.
        Assert.Equal(["stage1.block2.shuffle3", "stem.relu"], graph.Node.Single(n => n.OpType == "Add").Input);
    }

    [Fact]
    public void Initializers_are_the_parameters_and_running_statistics_with_their_values()
    {
        using var model = SmallNet();
        var graph = OnnxTestSupport.Parse(Onnx.ToBytes(model)).Graph;

        var expected = model.Parameters.Concat(model.Buffers).ToDictionary(p => p.Name);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), graph.Initializer.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Contains("stem.bn.running_mean", expected.Keys);
        Assert.Contains("stage2.block1.bn3.running_var", expected.Keys);
        foreach (var tensor in graph.Initializer)
        {
            var parameter = expected[tensor.Name];
            Assert.Equal((int)TensorProto.Types.DataType.Float, tensor.DataType);
            Assert.Equal(parameter.Shape.Select(d => (long)d), tensor.Dims);
            Assert.Equal(parameter.GetValues(), MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray());
        }
    }

    [Fact]
    public void Input_and_output_have_a_symbolic_batch_and_the_declared_shapes()
    {
        using var model = SmallNet();
        var onnx = OnnxTestSupport.Parse(Onnx.ToBytes(model));

        Assert.Equal(13, onnx.OpsetImport.Single(o => o.Domain == "").Version);
        var input = Assert.Single(onnx.Graph.Input);
        var output = Assert.Single(onnx.Graph.Output);
        Assert.Equal("input", input.Name);
        Assert.Equal("logits", output.Name);
        Assert.Equal(["N", "3", "8", "8"], Dims(input));
        Assert.Equal(["N", "5"], Dims(output));
        Assert.Equal("logits", onnx.Graph.Node[^1].Output.Single());
    }

    [Fact]
    public void Node_names_follow_the_parameter_names_and_are_unique()
    {
        using var model = SmallNet();
        var names = OnnxTestSupport.Parse(Onnx.ToBytes(model)).Graph.Node.Select(n => n.Name).ToList();

        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains("stem.conv", names);
        Assert.Contains("stage1.block1.conv2", names);
        Assert.Contains("stage1.block1.bn2", names);
        Assert.Contains("stage1.block1.shuffle2", names);
        Assert.Contains("stage2.block1.conv3", names);
        Assert.Contains("classifier.fc", names);
        // The shuffle after the channel-wise conv1 (one channel per branch) is the identity: not written.
        Assert.DoesNotContain("stage1.block1.shuffle1", names);
    }

    [Fact]
    public void Gather_option_writes_each_shuffle_as_one_gather_with_the_permutation()
    {
        using var model = SmallNet();
        var graph = OnnxTestSupport.Parse(Onnx.ToBytes(model, new OnnxExportOptions { Shuffle = OnnxShuffle.Gather })).Graph;

        Assert.DoesNotContain(graph.Node, n => n.OpType is "Reshape" or "Transpose");
        var gather = graph.Node.Single(n => n.Name == "stage1.block1.shuffle2");
        Assert.Equal("Gather", gather.OpType);
        Assert.Equal(1, Attribute(gather, "axis").I);
        var indices = graph.Node.Single(n => n.Output.Single() == gather.Input[1]);
        // conv2 of stage 1 has 8 / 4 = 2 branches: out[j*2 + g] = in[g*4 + j].
        Assert.Equal([0, 4, 1, 5, 2, 6, 3, 7], Attribute(indices, "value").T.Int64Data);
    }

    [Fact]
    public void Save_writes_the_file_atomically_and_replaces_an_existing_one()
    {
        using var model = SmallNet();
        var directory = Directory.CreateTempSubdirectory("igcv2-onnx-");
        try
        {
            var path = Path.Combine(directory.FullName, "nested", "small.onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "an older file");

            Onnx.Save(model, path);

            Assert.Equal(Onnx.ToBytes(model), File.ReadAllBytes(path));
            Assert.Equal(["small.onnx"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
            using var stream = new MemoryStream();
            Onnx.Save(model, stream);
            Assert.Equal(File.ReadAllBytes(path), stream.ToArray());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_model_that_lacks_a_tensor_the_plan_needs_is_refused_by_name()
    {
        using var model = SmallNet();
        var broken = new WithoutTensor(model, "stage2.block1.bn2.running_var");

        var error = Assert.Throws<InvalidOperationException>(() => Onnx.ToBytes(broken));
        Assert.Contains("stage2.block1.bn2.running_var", error.Message);
    }

    [Fact]
    public void Opsets_before_13_are_refused()
    {
        using var model = SmallNet();
        Assert.Throws<ArgumentException>(() => Onnx.ToBytes(model, new OnnxExportOptions { Opset = 12 }));
        Assert.Equal(17, OnnxTestSupport.Parse(Onnx.ToBytes(model, new OnnxExportOptions { Opset = 17 })).OpsetImport.Single().Version);
    }

    private static AttributeProto Attribute(NodeProto node, string name) => node.Attribute.Single(a => a.Name == name);

    private static string[] Dims(ValueInfoProto value) =>
        value.Type.TensorType.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam
            ? d.DimParam
            : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>A model view with one tensor missing.</summary>
    private sealed class WithoutTensor(IModel inner, string name) : IModel
    {
        public Device Device => inner.Device;

        public int BatchSize => inner.BatchSize;

        public NetworkPlan Plan => inner.Plan;

        public IReadOnlyList<Parameter> Parameters => inner.Parameters.Where(p => p.Name != name).ToList();

        public IReadOnlyList<Parameter> Buffers => inner.Buffers.Where(p => p.Name != name).ToList();

        public Tensor Forward(Tensor input, bool training) => inner.Forward(input, training);

        public void Backward(Tensor gradLogits) => inner.Backward(gradLogits);

        public bool ComputeInputGradient { get => inner.ComputeInputGradient; set => inner.ComputeInputGradient = value; }

        public Tensor? InputGradient => inner.InputGradient;

        public void Dispose()
        {
        }
    }
}
