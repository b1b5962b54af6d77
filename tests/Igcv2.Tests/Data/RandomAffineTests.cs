using Igcv2.Data;

namespace Igcv2.Tests.Data;

public class RandomAffineTests
{
    private static readonly float[] Image = [1, 2, 3, 4, 5, 6, 7, 8, 9]; // 1 x 3 x 3

    [Fact]
    public void Warp_with_no_rotation_scaling_or_shift_is_the_identity()
    {
        var output = new float[9];
        RandomAffine.Warp(Image, 1, 3, 3, 0, 1, 0, 0, output);
        Assert.Equal(Image, output);
    }

    [Fact]
    public void Warp_by_a_quarter_turn_rotates_the_pixels()
    {
        var output = new float[9];
        RandomAffine.Warp(Image, 1, 3, 3, Math.PI / 2, 1, 0, 0, output);
        // Output (y, x) reads input (2 - x, y): with y pointing down, the picture turns clockwise.
        Assert.Equal([7f, 4, 1, 8, 5, 2, 9, 6, 3], output.Select(v => MathF.Round(v, 4)).ToArray());
    }

    [Fact]
    public void Warp_shifts_by_whole_pixels_and_fills_with_zero()
    {
        var output = new float[9];
        RandomAffine.Warp(Image, 1, 3, 3, 0, 1, 1, 0, output);
        Assert.Equal([0f, 0, 0, 1, 2, 3, 4, 5, 6], output);
    }

    [Fact]
    public void Apply_is_reproducible_from_the_seed_and_keeps_the_shape()
    {
        var affine = new RandomAffine(15, 0.9, 1.1, 2);
        var image = Enumerable.Range(0, 2 * 28 * 28).Select(i => (float)(i % 17)).ToArray();
        var a = new float[image.Length];
        var b = new float[image.Length];
        affine.Apply(image, 2, 28, 28, a, new Random(5));
        affine.Apply(image, 2, 28, 28, b, new Random(5));
        Assert.Equal(a, b);
        Assert.Equal((2, 28, 28), affine.OutputShape(2, 28, 28));
        Assert.NotEqual(image, a);
    }
}
