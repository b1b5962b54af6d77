using Igcv2.Design;

namespace Igcv2.Tests.Paper;

/// <summary>
/// The ImageNet networks of Tables 8 and 10 laid out by the plan, against counts written out here layer by
/// layer (depthwise-separable and bottleneck arithmetic), not against copied constants.
/// </summary>
public class ImageNetCountTests
{
    // MobileNetV1-1.0 (Table 8): stem 3 -> 32 / 2, then (c_out, stride) per block.
    private static readonly (int Out, int Stride)[] MobileNetV1 =
        [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)];

    [Fact]
    public void MobileNetV1_counts_equal_the_depthwise_separable_arithmetic()
    {
        var layers = new List<LayerSpec> { new StemSpec(32, 2) };
        layers.AddRange(MobileNetV1.Select(b => new StageSpec(b.Out, 1, EquatableArray.Create(1, b.Out), null, b.Stride, 0, false, true)));
        var plan = NetworkPlan.Create(new NetworkSpec(3, 224, 1000, layers.ToEquatableArray()));

        long parameters = 3 * 9 * 32 + 2 * 32, multiplyAdds = 3 * 9 * 32 * 112L * 112;
        int c = 32, size = 112;
        foreach (var (outChannels, stride) in MobileNetV1)
        {
            size = (size - 1) / stride + 1;
            long depthwise = c * 9L, pointwise = (long)c * outChannels;
            parameters += depthwise + pointwise + 2L * c + 2L * outChannels;
            multiplyAdds += (depthwise + pointwise) * size * size;
            c = outChannels;
        }
        parameters += c * 1000L + 1000;
        multiplyAdds += c * 1000L;

        Assert.Equal(parameters, plan.ParameterCount);
        Assert.Equal(multiplyAdds, plan.MultiplyAdds);
        Assert.InRange(plan.MultiplyAdds / 1e6, 568, 570); // Table 9: 569M
    }

    // IGCV3-1.0 (Table 10): (c_out, blocks, stride, t) per row, g1 = g2 = 2.
    private static readonly (int Out, int Blocks, int Stride, int T)[] Igcv3 =
        [(16, 1, 1, 1), (24, 1, 2, 6), (24, 3, 1, 6), (32, 1, 2, 6), (32, 5, 1, 6), (64, 1, 2, 6), (64, 7, 1, 6), (96, 1, 1, 6), (96, 5, 1, 6), (160, 1, 2, 6), (160, 5, 1, 6), (320, 1, 1, 6)];

    [Fact]
    public void Igcv3_counts_equal_the_bottleneck_arithmetic()
    {
        var layers = new List<LayerSpec> { new StemSpec(32, 2) };
        layers.AddRange(Igcv3.Select(r => new Igcv3StageSpec(r.Out, r.Blocks, r.T, 2, 2, r.Stride)));
        var plan = NetworkPlan.Create(new NetworkSpec(3, 224, 1000, layers.ToEquatableArray()));

        long parameters = 3 * 9 * 32 + 2 * 32, multiplyAdds = 3 * 9 * 32 * 112L * 112;
        int c = 32, size = 112, skips = 0;
        foreach (var (outChannels, blocks, firstStride, t) in Igcv3)
        {
            for (var b = 0; b < blocks; b++)
            {
                var stride = b == 0 ? firstStride : 1;
                var hidden = c * t;
                long expand = (long)hidden * (c / 2), depthwise = hidden * 9L, project = (long)outChannels * (hidden / 2);
                var outSize = (size - 1) / stride + 1;
                if (c == outChannels && stride == 1) skips++;
                parameters += expand + depthwise + project + 2L * (hidden + hidden + outChannels);
                multiplyAdds += expand * size * size + (depthwise + project) * outSize * outSize;
                c = outChannels;
                size = outSize;
            }
        }
        parameters += c * 1000L + 1000;
        multiplyAdds += c * 1000L;

        Assert.Equal(parameters, plan.ParameterCount);
        Assert.Equal(multiplyAdds, plan.MultiplyAdds);
        // An identity skip on exactly the blocks that keep their shape (the paper: all but the downsampling ones).
        Assert.Equal(25, skips);
        Assert.Equal(skips, plan.Blocks.Count(b => b.HasSkip));
    }

    // IGCV2-1.0 (Table 8): stem 3 -> 64 / 2, then (c_in, c_out, stride) per block, g1 = g2 = 8.
    private static readonly (int In, int Out, int Stride)[] Igcv2 =
        [(64, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1), (512, 1024, 2),
         (1024, 1024, 1), (1024, 1024, 1), (1024, 1024, 1), (1024, 1024, 1), (1024, 1024, 1), (1024, 2048, 2), (2048, 2048, 1)];

    [Fact]
    public void Igcv2_counts_equal_the_Figure5_block_arithmetic_with_the_IGCV2_star_head()
    {
        var layers = new List<LayerSpec> { new StemSpec(64, 2) };
        layers.AddRange(Igcv2.Select(b => new StageSpec(b.Out, 1, EquatableArray.Create(1, b.In / 8, b.In / 8), null, b.Stride, 0, false, true)));
        layers.Add(new ClassifierSpec(EquatableArray.Create(2048 / 8, 2048 / 8)));
        var plan = NetworkPlan.Create(new NetworkSpec(3, 224, 1000, layers.ToEquatableArray()));

        long parameters = 3 * 9 * 64 + 2 * 64, multiplyAdds = 3 * 9 * 64 * 112L * 112;
        var size = 112;
        foreach (var (c, outChannels, stride) in Igcv2)
        {
            size = (size - 1) / stride + 1;
            // Channel-wise 3x3, then two 1x1 group convolutions of 8 branches (the second one widens).
            long depthwise = c * 9L, first = (long)c * (c / 8), second = (long)outChannels * (c / 8);
            parameters += depthwise + first + second + 2L * (c + c + outChannels);
            multiplyAdds += (depthwise + first + second) * size * size;
        }
        // IGCV2* after the pooling: 2048 -> 2048 and 2048 -> 1000, 8 branches each; BN between, a bias after.
        long head = 2048L * 256 + 1000L * 256;
        parameters += head + 2 * 2048 + 1000;
        multiplyAdds += head;

        Assert.Equal(parameters, plan.ParameterCount);
        Assert.Equal(multiplyAdds, plan.MultiplyAdds);
        Assert.InRange(plan.MultiplyAdds / 1e6, 564 * 0.99, 564 * 1.01); // Table 9: 564M
    }
}
