namespace Igcv2.Data;

/// <summary>
/// One step of an <see cref="AugmentationPipeline"/>: reads a float CHW image and writes the transformed one.
/// Random steps draw only from the <see cref="Random"/> they are given, in a fixed order, so a seeded
/// generator reproduces the result exactly.
/// </summary>
public abstract class Augmentation
{
    /// <summary>The shape this step produces from a <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/> input.</summary>
    public abstract (int Channels, int Height, int Width) OutputShape(int channels, int height, int width);

    /// <summary>Transforms <paramref name="source"/> into <paramref name="destination"/> (sized by <see cref="OutputShape"/>).</summary>
    public abstract void Apply(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, Random random);
}

/// <summary>
/// Zero-pads each side by <see cref="Padding"/> pixels and crops a random <see cref="Size"/> x <see cref="Size"/>
/// window (the CIFAR recipe: pad 4, crop 32). Draws the row offset, then the column offset.
/// </summary>
public sealed class RandomCrop(int size, int padding) : Augmentation
{
    public int Size { get; } = size > 0 ? size : throw new ArgumentOutOfRangeException(nameof(size));

    public int Padding { get; } = padding >= 0 ? padding : throw new ArgumentOutOfRangeException(nameof(padding));

    public override (int Channels, int Height, int Width) OutputShape(int channels, int height, int width)
    {
        if (height + 2 * Padding < Size || width + 2 * Padding < Size)
        {
            throw new ArgumentException($"a {Size}x{Size} crop does not fit a {height}x{width} image padded by {Padding}");
        }

        return (channels, Size, Size);
    }

    public override void Apply(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, Random random)
    {
        OutputShape(channels, height, width);
        int top = random.Next(height + 2 * Padding - Size + 1) - Padding;
        int left = random.Next(width + 2 * Padding - Size + 1) - Padding;
        Crop(source, channels, height, width, top, left, Size, destination);
    }

    /// <summary>The <paramref name="size"/>-square window at (top, left) of the image; pixels outside it read 0.</summary>
    internal static void Crop(ReadOnlySpan<float> source, int channels, int height, int width, int top, int left, int size, Span<float> destination)
    {
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < size; y++)
            {
                int sy = top + y;
                Span<float> row = destination.Slice((c * size + y) * size, size);
                if ((uint)sy >= (uint)height)
                {
                    row.Clear();
                    continue;
                }

                for (int x = 0; x < size; x++)
                {
                    int sx = left + x;
                    row[x] = (uint)sx < (uint)width ? source[(c * height + sy) * width + sx] : 0f;
                }
            }
        }
    }
}

/// <summary>Mirrors the image left-right with probability <see cref="Probability"/> (one draw per image).</summary>
public sealed class HorizontalFlip(double probability = 0.5) : Augmentation
{
    public double Probability { get; } = probability is >= 0 and <= 1 ? probability : throw new ArgumentOutOfRangeException(nameof(probability));

    public override (int Channels, int Height, int Width) OutputShape(int channels, int height, int width) => (channels, height, width);

    public override void Apply(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, Random random)
    {
        bool flip = random.NextDouble() < Probability;
        int count = channels * height * width;
        source[..count].CopyTo(destination);
        if (flip)
        {
            for (int row = 0; row < channels * height; row++)
            {
                destination.Slice(row * width, width).Reverse();
            }
        }
    }
}

/// <summary>
/// Resizes the image (bilinear, pixel centres aligned as in PIL/torchvision) to a random side in
/// [<see cref="MinSize"/>, <see cref="MaxSize"/>] and crops a random <see cref="CropSize"/> square (the Tiny
/// ImageNet recipe: scale to [64, 80], crop 64). Draws the side, then the row offset, then the column offset.
/// </summary>
public sealed class RandomScaleCrop : Augmentation
{
    public RandomScaleCrop(int minSize, int maxSize, int cropSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cropSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSize, cropSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSize, minSize);
        MinSize = minSize;
        MaxSize = maxSize;
        CropSize = cropSize;
    }

    public int MinSize { get; }

    public int MaxSize { get; }

    public int CropSize { get; }

    public override (int Channels, int Height, int Width) OutputShape(int channels, int height, int width) => (channels, CropSize, CropSize);

    public override void Apply(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, Random random)
    {
        int side = random.Next(MinSize, MaxSize + 1);
        float[] scaled = new float[channels * side * side];
        Resize(source, channels, height, width, side, side, scaled);
        int top = random.Next(side - CropSize + 1);
        int left = random.Next(side - CropSize + 1);
        RandomCrop.Crop(scaled, channels, side, side, top, left, CropSize, destination);
    }

    /// <summary>Bilinear resize, half-pixel centres, edges clamped.</summary>
    internal static void Resize(ReadOnlySpan<float> source, int channels, int height, int width, int newHeight, int newWidth, Span<float> destination)
    {
        for (int y = 0; y < newHeight; y++)
        {
            float fy = Math.Clamp((y + 0.5f) * height / newHeight - 0.5f, 0, height - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, height - 1);
            float wy = fy - y0;
            for (int x = 0; x < newWidth; x++)
            {
                float fx = Math.Clamp((x + 0.5f) * width / newWidth - 0.5f, 0, width - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, width - 1);
                float wx = fx - x0;
                for (int c = 0; c < channels; c++)
                {
                    int plane = c * height * width;
                    float top = source[plane + y0 * width + x0] * (1 - wx) + source[plane + y0 * width + x1] * wx;
                    float bottom = source[plane + y1 * width + x0] * (1 - wx) + source[plane + y1 * width + x1] * wx;
                    destination[(c * newHeight + y) * newWidth + x] = top * (1 - wy) + bottom * wy;
                }
            }
        }
    }
}

/// <summary>Per-channel <c>(x - mean) / std</c> on pixels in [0, 1].</summary>
public sealed class Normalize : Augmentation
{
    public Normalize(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count != std.Count || mean.Count == 0)
        {
            throw new ArgumentException($"{mean.Count} means and {std.Count} standard deviations: one of each per channel");
        }

        if (std.Any(s => !(s > 0)))
        {
            throw new ArgumentException("every standard deviation must be positive", nameof(std));
        }

        Mean = [.. mean];
        Std = [.. std];
    }

    public IReadOnlyList<float> Mean { get; }

    public IReadOnlyList<float> Std { get; }

    /// <summary>Statistics of <paramref name="training"/> (see <see cref="Dataset.ChannelStatistics"/>).</summary>
    public static Normalize From(Dataset training)
    {
        var (mean, std) = training.ChannelStatistics();
        return new Normalize(mean, std.Select(s => s > 0 ? s : 1f).ToArray());
    }

    public override (int Channels, int Height, int Width) OutputShape(int channels, int height, int width)
    {
        if (channels != Mean.Count)
        {
            throw new ArgumentException($"normalisation for {Mean.Count} channels applied to {channels}");
        }

        return (channels, height, width);
    }

    public override void Apply(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, Random random)
    {
        OutputShape(channels, height, width);
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            float mean = Mean[c], scale = 1 / Std[c];
            for (int i = c * plane; i < (c + 1) * plane; i++)
            {
                destination[i] = (source[i] - mean) * scale;
            }
        }
    }
}

/// <summary>
/// A random rotation (up to <see cref="Degrees"/> either way), scaling (within [<see cref="MinScale"/>,
/// <see cref="MaxScale"/>]) and whole-pixel shift (up to <see cref="Shift"/> either way) about the image
/// centre, sampled bilinearly; pixels from outside the image read 0. The usual augmentation for small
/// digit sets. Draws the angle, the scale, the row shift, then the column shift.
/// </summary>
public sealed class RandomAffine(double degrees, double minScale, double maxScale, int shift) : Augmentation
{
    public double Degrees { get; } = degrees >= 0 ? degrees : throw new ArgumentOutOfRangeException(nameof(degrees));

    public double MinScale { get; } = minScale > 0 ? minScale : throw new ArgumentOutOfRangeException(nameof(minScale));

    public double MaxScale { get; } = maxScale >= minScale ? maxScale : throw new ArgumentOutOfRangeException(nameof(maxScale));

    public int Shift { get; } = shift >= 0 ? shift : throw new ArgumentOutOfRangeException(nameof(shift));

    public override (int Channels, int Height, int Width) OutputShape(int channels, int height, int width) => (channels, height, width);

    public override void Apply(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, Random random)
    {
        var angle = (random.NextDouble() * 2 - 1) * Degrees * Math.PI / 180;
        var scale = MinScale + random.NextDouble() * (MaxScale - MinScale);
        var dy = random.Next(-Shift, Shift + 1);
        var dx = random.Next(-Shift, Shift + 1);
        Warp(source, channels, height, width, angle, scale, dy, dx, destination);
    }

    /// <summary>
    /// Output pixel (y, x) samples the input at the inverse transform of its position: rotate by
    /// -angle and divide by scale about the centre, after undoing the shift.
    /// </summary>
    private static double Pixel(ReadOnlySpan<float> plane, int height, int width, int y, int x) =>
        (uint)y < (uint)height && (uint)x < (uint)width ? plane[y * width + x] : 0.0;

    internal static void Warp(ReadOnlySpan<float> source, int channels, int height, int width, double angle, double scale, int dy, int dx, Span<float> destination)
    {
        double cy = (height - 1) / 2.0, cx = (width - 1) / 2.0;
        double cos = Math.Cos(angle) / scale, sin = Math.Sin(angle) / scale;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double oy = y - dy - cy, ox = x - dx - cx;
                double sy = cos * oy - sin * ox + cy;
                double sx = sin * oy + cos * ox + cx;
                int y0 = (int)Math.Floor(sy), x0 = (int)Math.Floor(sx);
                double fy = sy - y0, fx = sx - x0;
                for (int c = 0; c < channels; c++)
                {
                    var plane = source.Slice(c * height * width, height * width);
                    var value = (1 - fy) * ((1 - fx) * Pixel(plane, height, width, y0, x0) + fx * Pixel(plane, height, width, y0, x0 + 1))
                        + fy * ((1 - fx) * Pixel(plane, height, width, y0 + 1, x0) + fx * Pixel(plane, height, width, y0 + 1, x0 + 1));
                    destination[(c * height + y) * width + x] = (float)value;
                }
            }
        }
    }
}
