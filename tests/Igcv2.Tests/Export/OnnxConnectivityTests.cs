using Igcv2.Design;
using Onnx;

namespace Igcv2.Tests.Export;

/// <summary>
/// The complementary condition read back from the ONNX file alone: a small interpreter walks one block's
/// nodes, counting for every element of every tensor the paths from each of the block's input channels
/// (Conv links an output channel to the input channels of its group, by the <c>group</c> attribute and
/// the weight's shape; Reshape, Transpose and Gather move elements; BN and ReLU keep them). Spatial
/// mixing is left out: the count is over channels.
/// </summary>
public class OnnxConnectivityTests(CpuDeviceFixture fixture) : IClassFixture<CpuDeviceFixture>
{
    public static TheoryData<OnnxShuffle> Shuffles => [OnnxShuffle.ReshapeTranspose, OnnxShuffle.Gather];

    [Theory]
    [MemberData(nameof(Shuffles))]
    public void C64_block_with_K_1_8_8_links_every_input_channel_to_every_output_channel_by_exactly_one_path(OnnxShuffle shuffle)
    {
        var paths = BlockPaths(ExportOneBlock.Spec, "stage1.block1", shuffle);

        Assert.Equal(64, paths.GetLength(0));
        Assert.Equal(64, paths.GetLength(1));
        AssertEveryPairHas(paths, 1);
    }

    [Theory]
    [MemberData(nameof(Shuffles))]
    public void Widening_block_links_every_pair_by_C_out_over_C_in_paths(OnnxShuffle shuffle)
    {
        // stage2.block1 of the small net: 8 -> 16 channels, K = [1, 4, 4]; prod(K) = C_out gives 16 / 8 = 2 paths.
        var paths = BlockPaths(ExportSmallNet.Spec, "stage2.block1", shuffle);

        Assert.Equal(8, paths.GetLength(0));
        Assert.Equal(16, paths.GetLength(1));
        AssertEveryPairHas(paths, 2);
    }

    [Fact]
    public void Without_its_shuffles_the_same_block_is_not_dense()
    {
        // The control: the walk sees the permutations. Drop them and W_3 W_2 mixes the same 8 channels twice.
        var paths = BlockPaths(ExportOneBlock.Spec, "stage1.block1", OnnxShuffle.ReshapeTranspose, dropShuffles: true);

        var reached = paths.Cast<long>().Count(p => p > 0);
        Assert.Equal(64 * 8, reached);
    }

    private long[,] BlockPaths(NetworkSpec spec, string block, OnnxShuffle shuffle, bool dropShuffles = false)
    {
        using var model = new ReferenceModel(fixture.Device, NetworkPlan.Create(spec), batchSize: 1, seed: 3);
        var onnx = OnnxTestSupport.Parse(Onnx.ToBytes(model, new OnnxExportOptions { Shuffle = shuffle }));
        return new ChannelPaths(onnx, dropShuffles).Walk(block);
    }

    private static void AssertEveryPairHas(long[,] paths, long expected)
    {
        for (var i = 0; i < paths.GetLength(0); i++)
        for (var o = 0; o < paths.GetLength(1); o++)
        {
            Assert.True(paths[i, o] == expected, $"input channel {i} reaches output channel {o} by {paths[i, o]} paths, expected {expected}");
        }
    }

    /// <summary>
    /// Path counts per element: a tensor value is its shape and, per element (batch 1), a vector over the
    /// block's input channels.
    /// </summary>
    private sealed class ChannelPaths(ModelProto model, bool dropShuffles)
    {
        private readonly GraphProto graph = model.Graph;
        private readonly Dictionary<string, long[]> constants = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Value> values = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long[]> shapes = new(StringComparer.Ordinal);

        public long[,] Walk(string block)
        {
            ShapesUpTo(block + ".conv1");
            var first = graph.Node.Single(n => n.Name == block + ".conv1");
            var inputName = first.Input[0];
            var inputShape = shapes[inputName];
            var inChannels = (int)inputShape[1];
            values[inputName] = Identity(inputShape, inChannels);

            string output = "";
            foreach (var node in graph.Node.SkipWhile(n => n != first))
            {
                if (!node.Name.StartsWith(block + ".", StringComparison.Ordinal) && node.OpType != "Constant") break;
                if (dropShuffles && node.Name.Contains(".shuffle", StringComparison.Ordinal) && node.OpType != "Constant")
                {
                    values[node.Output[0]] = values[node.Input[0]];
                    output = node.Output[0];
                    continue;
                }
                Apply(node, inChannels);
                output = node.Output[0];
            }

            var result = values[output];
            Assert.Equal(4, result.Shape.Length);
            int channels = (int)result.Shape[1], area = (int)(result.Shape[2] * result.Shape[3]);
            var paths = new long[inChannels, channels];
            for (var o = 0; o < channels; o++)
            for (var i = 0; i < inChannels; i++)
            {
                paths[i, o] = result.Paths[o * area][i];
                // Every position of a channel must agree: the walk moved whole channels.
                for (var p = 1; p < area; p++) Assert.Equal(paths[i, o], result.Paths[o * area + p][i]);
            }
            return paths;
        }

        private void Apply(NodeProto node, int inChannels)
        {
            switch (node.OpType)
            {
                case "Constant":
                    var t = node.Attribute.Single(a => a.Name == "value").T;
                    constants[node.Output[0]] = t.Int64Data.ToArray();
                    return;
                case "Conv":
                    values[node.Output[0]] = Conv(node, values[node.Input[0]], inChannels);
                    return;
                case "BatchNormalization" or "Relu":
                    values[node.Output[0]] = values[node.Input[0]];
                    return;
                case "Reshape":
                    values[node.Output[0]] = Reshape(values[node.Input[0]], constants[node.Input[1]]);
                    return;
                case "Transpose":
                    values[node.Output[0]] = Transpose(values[node.Input[0]], node.Attribute.Single(a => a.Name == "perm").Ints.ToArray());
                    return;
                case "Gather":
                    Assert.Equal(1, node.Attribute.Single(a => a.Name == "axis").I);
                    values[node.Output[0]] = GatherChannels(values[node.Input[0]], constants[node.Input[1]]);
                    return;
                case "Add":
                    var a = values[node.Input[0]];
                    var b = values[node.Input[1]];
                    values[node.Output[0]] = a with { Paths = a.Paths.Select((v, i) => v.Zip(b.Paths[i], (x, y) => x + y).ToArray()).ToArray() };
                    return;
                default:
                    throw new InvalidOperationException($"The connectivity walk does not know {node.OpType} ({node.Name}).");
            }
        }

        private Value Conv(NodeProto node, Value x, int inChannels)
        {
            var weight = graph.Initializer.Single(t => t.Name == node.Input[1]);
            var group = (int)node.Attribute.Single(a => a.Name == "group").I;
            var stride = (int)node.Attribute.Single(a => a.Name == "strides").Ints[0];
            int outChannels = (int)weight.Dims[0], perGroupIn = (int)weight.Dims[1];
            Assert.Equal(x.Shape[1], (long)group * perGroupIn);
            int height = (int)x.Shape[2], width = (int)x.Shape[3];
            var outHeight = (height - 1) / stride + 1;
            var outWidth = (width - 1) / stride + 1;
            var paths = new long[outChannels * outHeight * outWidth][];
            for (var o = 0; o < outChannels; o++)
            {
                var g = o / (outChannels / group);
                for (var y = 0; y < outHeight; y++)
                for (var z = 0; z < outWidth; z++)
                {
                    var sum = new long[inChannels];
                    // The channel links only: the input at the same (strided) position stands for its window.
                    for (var c = g * perGroupIn; c < (g + 1) * perGroupIn; c++)
                    {
                        var source = x.Paths[(c * height + y * stride) * width + z * stride];
                        for (var i = 0; i < inChannels; i++) sum[i] += source[i];
                    }
                    paths[(o * outHeight + y) * outWidth + z] = sum;
                }
            }
            return new Value([1, outChannels, outHeight, outWidth], paths);
        }

        private static Value Reshape(Value x, long[] target)
        {
            var shape = target.Select((d, i) => d == 0 ? x.Shape[i] : d).ToArray();
            var known = shape.Where(d => d != -1).Aggregate(1L, (p, d) => p * d);
            shape = shape.Select(d => d == -1 ? x.Paths.Length / known : d).ToArray();
            Assert.Equal(x.Paths.Length, shape.Aggregate(1L, (p, d) => p * d));
            return new Value(shape, x.Paths);
        }

        private static Value Transpose(Value x, long[] perm)
        {
            var outShape = perm.Select(p => x.Shape[p]).ToArray();
            var paths = new long[x.Paths.Length][];
            var index = new long[x.Shape.Length];
            for (var flat = 0; flat < x.Paths.Length; flat++)
            {
                // Input multi-index of flat, then its place in the output.
                var rest = (long)flat;
                for (var d = x.Shape.Length - 1; d >= 0; d--)
                {
                    index[d] = rest % x.Shape[d];
                    rest /= x.Shape[d];
                }
                long target = 0;
                for (var d = 0; d < perm.Length; d++) target = target * outShape[d] + index[perm[d]];
                paths[target] = x.Paths[flat];
            }
            return new Value(outShape, paths);
        }

        private static Value GatherChannels(Value x, long[] indices)
        {
            var area = (int)(x.Shape[2] * x.Shape[3]);
            var paths = new long[indices.Length * area][];
            for (var o = 0; o < indices.Length; o++)
            for (var p = 0; p < area; p++) paths[o * area + p] = x.Paths[(int)indices[o] * area + p];
            return new Value([1, indices.Length, x.Shape[2], x.Shape[3]], paths);
        }

        private static Value Identity(long[] shape, int channels)
        {
            var area = (int)(shape[2] * shape[3]);
            var paths = new long[channels * area][];
            for (var c = 0; c < channels; c++)
            for (var p = 0; p < area; p++)
            {
                paths[c * area + p] = new long[channels];
                paths[c * area + p][c] = 1;
            }
            return new Value([1, shape[1], shape[2], shape[3]], paths);
        }

        /// <summary>
        /// The [1, C, H, W] shapes up to <paramref name="node"/>'s input, from the graph input and the convs'
        /// weights and strides; every other op before a block keeps its input's NCHW shape (a shuffle's inner
        /// tensors get the wrong one, but only the block's input shape is read).
        /// </summary>
        private void ShapesUpTo(string node)
        {
            var dims = graph.Input.Single().Type.TensorType.Shape.Dim.Select(d => d.DimValue).ToArray();
            var current = new long[] { 1, dims[1], dims[2], dims[3] };
            shapes[graph.Input.Single().Name] = current;
            foreach (var n in graph.Node.TakeWhile(n => n.Name != node))
            {
                if (n.OpType == "Conv")
                {
                    var weight = graph.Initializer.Single(t => t.Name == n.Input[1]);
                    var stride = n.Attribute.Single(a => a.Name == "strides").Ints[0];
                    var input = shapes[n.Input[0]];
                    current = [1, weight.Dims[0], (input[2] - 1) / stride + 1, (input[3] - 1) / stride + 1];
                }
                shapes[n.Output[0]] = current;
            }
        }

        private sealed record Value(long[] Shape, long[][] Paths);
    }
}
