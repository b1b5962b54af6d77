namespace Igcv2.Samples;

/// <summary>
/// Seven-segment digits drawn at random offsets, slants and stroke widths with pixel noise, 28x28 in
/// [0, 1]: a self-contained stand-in for real digits so the sample runs anywhere.
/// TODO: switch to Igcv2.Data.BundledDigits once the data branch lands on main.
/// </summary>
internal static class SyntheticDigits
{
    public const int Size = 28;

    // Segments a..g (top, top right, bottom right, bottom, bottom left, top left, middle) of each digit.
    private static readonly string[] Segments = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"];

    /// <summary><paramref name="count"/> images [count, 1, 28, 28] and their labels, reproducible from <paramref name="seed"/>.</summary>
    public static (float[] Images, int[] Labels) Generate(int count, int seed)
    {
        var random = new Random(seed);
        var images = new float[count * Size * Size];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = random.Next(10);
            Draw(images.AsSpan(i * Size * Size, Size * Size), labels[i], random);
        }
        return (images, labels);
    }

    private static void Draw(Span<float> image, int digit, Random random)
    {
        double width = 9 + 4 * random.NextDouble(), height = 16 + 5 * random.NextDouble();
        double left = (Size - width) / 2 + random.Next(-3, 4), top = (Size - height) / 2 + random.Next(-2, 3);
        double slant = 0.25 * (random.NextDouble() - 0.3), stroke = 1.1 + 0.9 * random.NextDouble();
        double mid = top + height / 2, bottom = top + height, right = left + width;
        foreach (var segment in Segments[digit])
        {
            var (x0, y0, x1, y1) = segment switch
            {
                'a' => (left, top, right, top),
                'b' => (right, top, right, mid),
                'c' => (right, mid, right, bottom),
                'd' => (left, bottom, right, bottom),
                'e' => (left, mid, left, bottom),
                'f' => (left, top, left, mid),
                _ => (left, mid, right, mid),
            };
            Line(image, x0 + slant * (mid - y0), y0, x1 + slant * (mid - y1), y1, stroke);
        }
        for (var p = 0; p < image.Length; p++)
        {
            image[p] = (float)Math.Clamp(image[p] + 0.15 * (random.NextDouble() - 0.5), 0, 1);
        }
    }

    /// <summary>A thick segment: every pixel within <paramref name="stroke"/> of it is inked.</summary>
    private static void Line(Span<float> image, double x0, double y0, double x1, double y1, double stroke)
    {
        double dx = x1 - x0, dy = y1 - y0, length2 = dx * dx + dy * dy;
        for (var y = 0; y < Size; y++)
        for (var x = 0; x < Size; x++)
        {
            var t = Math.Clamp(((x - x0) * dx + (y - y0) * dy) / length2, 0, 1);
            double ex = x0 + t * dx - x, ey = y0 + t * dy - y;
            var distance = Math.Sqrt(ex * ex + ey * ey);
            var ink = Math.Clamp(stroke + 0.5 - distance, 0, 1);
            image[y * Size + x] = (float)Math.Max(image[y * Size + x], ink);
        }
    }
}
