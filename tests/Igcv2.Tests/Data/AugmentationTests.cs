using Igcv2.Data;

namespace Igcv2.Tests.Data;

public sealed class AugmentationTests
{
    // 1 x 3 x 3: 1 2 3 / 4 5 6 / 7 8 9
    private static readonly float[] Tiny = [1, 2, 3, 4, 5, 6, 7, 8, 9];

    private static float[] Run(Augmentation step, float[] source, int c, int h, int w, Random random)
    {
        var (oc, oh, ow) = step.OutputShape(c, h, w);
        var output = new float[oc * oh * ow];
        step.Apply(source, c, h, w, output, random);
        return output;
    }

    /// <summary>The 3x3 window at (top, left) of <see cref="Tiny"/> zero-padded by 1.</summary>
    private static float[] Window(int top, int left)
    {
        var window = new float[9];
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 3; x++)
            {
                int sy = top + y, sx = left + x;
                window[y * 3 + x] = sy is >= 0 and < 3 && sx is >= 0 and < 3 ? Tiny[sy * 3 + sx] : 0;
            }
        }

        return window;
    }

    [Fact]
    public void RandomCrop_takes_the_padded_window_at_the_drawn_row_then_column()
    {
        var seen = new HashSet<(int, int)>();
        for (int seed = 0; seed < 200; seed++)
        {
            var output = Run(new RandomCrop(3, 1), Tiny, 1, 3, 3, new Random(seed));

            var draws = new Random(seed);
            int top = draws.Next(3) - 1, left = draws.Next(3) - 1;
            Assert.Equal(Window(top, left), output);
            seen.Add((top, left));
        }

        Assert.Equal(9, seen.Count);
    }

    [Fact]
    public void RandomCrop_known_offsets_shift_the_image_and_fill_zeros()
    {
        Assert.Equal([0, 0, 0, 0, 1, 2, 0, 4, 5], Window(-1, -1));
        Assert.Equal([5, 6, 0, 8, 9, 0, 0, 0, 0], Window(1, 1));

        // And the crop code produces exactly these windows.
        var output = new float[9];
        RandomCrop.Crop(Tiny, 1, 3, 3, -1, -1, 3, output);
        Assert.Equal(Window(-1, -1), output);
        RandomCrop.Crop(Tiny, 1, 3, 3, 1, 1, 3, output);
        Assert.Equal(Window(1, 1), output);
    }

    [Fact]
    public void HorizontalFlip_mirrors_every_row_of_every_channel()
    {
        float[] twoChannels = [.. Tiny, .. Tiny.Select(v => v * 10)];

        var flipped = Run(new HorizontalFlip(1), twoChannels, 2, 3, 3, new Random(0));
        var kept = Run(new HorizontalFlip(0), twoChannels, 2, 3, 3, new Random(0));

        Assert.Equal([3, 2, 1, 6, 5, 4, 9, 8, 7, 30, 20, 10, 60, 50, 40, 90, 80, 70], flipped);
        Assert.Equal(twoChannels, kept);
    }

    [Fact]
    public void HorizontalFlip_half_the_time()
    {
        int flips = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            flips += Run(new HorizontalFlip(), Tiny, 1, 3, 3, new Random(seed))[0] == 3 ? 1 : 0;
        }

        Assert.InRange(flips, 150, 250);
    }

    [Fact]
    public void Resize_is_bilinear_with_half_pixel_centres()
    {
        var output = new float[4];
        RandomScaleCrop.Resize([0f, 1f], 1, 1, 2, 1, 4, output);

        Assert.Equal([0f, 0.25f, 0.75f, 1f], output);
    }

    [Fact]
    public void RandomScaleCrop_to_the_same_size_is_the_identity_and_sizes_stay_in_range()
    {
        var image = Enumerable.Range(0, 2 * 8 * 8).Select(i => (float)i).ToArray();
        Assert.Equal(image, Run(new RandomScaleCrop(8, 8, 8), image, 2, 8, 8, new Random(3)));

        // A constant image stays constant at any scale; the output is always the crop size.
        var constant = Enumerable.Repeat(0.5f, 3 * 64 * 64).ToArray();
        var output = Run(new RandomScaleCrop(64, 80, 64), constant, 3, 64, 64, new Random(5));
        Assert.Equal(3 * 64 * 64, output.Length);
        Assert.All(output, v => Assert.Equal(0.5f, v, 1e-6f));
    }

    [Fact]
    public void RandomScaleCrop_resizes_to_the_drawn_side_then_crops_at_the_drawn_offsets()
    {
        var image = Enumerable.Range(0, 64 * 64).Select(i => (float)(i % 64) + i / 64 * 0.01f).ToArray();
        var sides = new HashSet<int>();
        for (int seed = 0; seed < 60; seed++)
        {
            var output = Run(new RandomScaleCrop(64, 80, 64), image, 1, 64, 64, new Random(seed));

            var draws = new Random(seed);
            int side = draws.Next(64, 81);
            var scaled = new float[side * side];
            RandomScaleCrop.Resize(image, 1, 64, 64, side, side, scaled);
            var expected = new float[64 * 64];
            RandomCrop.Crop(scaled, 1, side, side, draws.Next(side - 63), draws.Next(side - 63), 64, expected);
            Assert.Equal(expected, output);
            sides.Add(side);
        }

        Assert.True(sides.Count > 10, $"only {sides.Count} distinct sides in [64, 80]");
    }

    [Fact]
    public void Normalize_subtracts_mean_and_divides_by_std_per_channel()
    {
        var output = Run(new Normalize([0.5f, 1f], [0.25f, 2f]), [0.5f, 1f, 0f, 3f], 2, 1, 2, new Random(0));

        Assert.Equal([0f, 2f, -0.5f, 1f], output);
    }

    [Fact]
    public void Pipeline_presets_produce_the_network_input_shapes()
    {
        var rgb = new Normalize([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);

        Assert.Equal((3, 32, 32), AugmentationPipeline.Cifar(rgb).OutputShape(3, 32, 32));
        Assert.Equal((3, 64, 64), AugmentationPipeline.TinyImageNet(rgb).OutputShape(3, 64, 64));
        Assert.Equal((1, 28, 28), AugmentationPipeline.Mnist(new Normalize([0.13f], [0.31f])).OutputShape(1, 28, 28));
        Assert.Single(AugmentationPipeline.Mnist(new Normalize([0.13f], [0.31f])).Steps);
    }

    [Fact]
    public void The_presets_name_their_steps_and_keep_the_shape()
    {
        var gray = new Normalize([0.13f], [0.31f]);

        var digits = AugmentationPipeline.From(AugmentationPreset.Digits, gray, 28);
        Assert.Collection(digits.Steps, s => Assert.IsType<RandomAffine>(s), s => Assert.Same(gray, s));
        var flipCrop = AugmentationPipeline.From(AugmentationPreset.FlipCrop, gray, 28);
        Assert.Collection(flipCrop.Steps,
            s => Assert.Equal((28, 3), (Assert.IsType<RandomCrop>(s).Size, ((RandomCrop)s).Padding)),
            s => Assert.IsType<HorizontalFlip>(s),
            s => Assert.Same(gray, s));
        Assert.Equal([gray], AugmentationPipeline.From(AugmentationPreset.None, gray, 28).Steps);
        Assert.All(new[] { digits, flipCrop }, p => Assert.Equal((1, 28, 28), p.OutputShape(1, 28, 28)));
        // CIFAR's recipe is the flip-crop preset at 32 (pad 4).
        Assert.Equal(4, ((RandomCrop)AugmentationPipeline.FlipCrop(gray, 32).Steps[0]).Padding);
    }

    [Fact]
    public void Flip_crop_mirrors_some_images_and_digits_never_does()
    {
        // A 1 x 28 x 28 image bright only in its left half: a mirrored copy is bright on the right.
        var image = new byte[28 * 28];
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 10; x++) image[y * 28 + x] = 255;
        }
        var none = new Normalize([0f], [1f]);
        int Mirrored(AugmentationPipeline pipeline)
        {
            var random = new Random(5);
            var output = new float[28 * 28];
            var count = 0;
            for (int i = 0; i < 200; i++)
            {
                pipeline.Apply(image, 1, 28, 28, output, random);
                double left = 0, right = 0;
                for (int y = 0; y < 28; y++)
                {
                    for (int x = 0; x < 14; x++) left += output[y * 28 + x];
                    for (int x = 14; x < 28; x++) right += output[y * 28 + x];
                }
                if (right > left) count++;
            }
            return count;
        }

        Assert.InRange(Mirrored(AugmentationPipeline.From(AugmentationPreset.FlipCrop, none, 28)), 70, 130);
        Assert.Equal(0, Mirrored(AugmentationPipeline.From(AugmentationPreset.Digits, none, 28)));
        Assert.Equal(0, Mirrored(AugmentationPipeline.From(AugmentationPreset.None, none, 28)));
    }

    [Theory]
    [InlineData("cifar", 32)]
    [InlineData("tiny", 64)]
    public void Pipeline_is_reproducible_from_the_seed(string preset, int size)
    {
        var rgb = new Normalize([0.4f, 0.5f, 0.6f], [0.2f, 0.25f, 0.3f]);
        var pipeline = preset == "cifar" ? AugmentationPipeline.Cifar(rgb) : AugmentationPipeline.TinyImageNet(rgb);
        var image = Enumerable.Range(0, 3 * size * size).Select(i => (byte)(i * 7 + i / size)).ToArray();

        float[] Augment(int seed)
        {
            var output = new float[3 * size * size];
            pipeline.Apply(image, 3, size, size, output, new Random(seed));
            return output;
        }

        Assert.Equal(Augment(42), Augment(42));
        Assert.NotEqual(Augment(42), Augment(43));
    }

    [Fact]
    public void Pipeline_scales_bytes_to_unit_range_before_the_steps()
    {
        var output = new float[3];
        new AugmentationPipeline().Apply([0, 51, 255], 3, 1, 1, output, new Random(0));

        Assert.Equal([0f, 0.2f, 1f], output);
    }
}
