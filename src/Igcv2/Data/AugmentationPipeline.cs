using System.Buffers;

namespace Igcv2.Data;

/// <summary>
/// Byte image -> floats in [0, 1] -> each step in order. The presets are the paper's training recipes;
/// evaluation uses <see cref="Evaluation"/> (normalisation only).
/// </summary>
public sealed class AugmentationPipeline
{
    public AugmentationPipeline(params IEnumerable<Augmentation> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        Steps = [.. steps];
    }

    public IReadOnlyList<Augmentation> Steps { get; }

    /// <summary>CIFAR training: zero-pad 4, random 32x32 crop, horizontal flip, normalise.</summary>
    public static AugmentationPipeline Cifar(Normalize normalize) =>
        new(new RandomCrop(32, 4), new HorizontalFlip(), normalize);

    /// <summary>Tiny ImageNet training: random scale to [64, 80], random 64x64 crop, horizontal flip, normalise.</summary>
    public static AugmentationPipeline TinyImageNet(Normalize normalize) =>
        new(new RandomScaleCrop(64, 80, 64), new HorizontalFlip(), normalize);

    /// <summary>MNIST training: normalisation only (the digits are centred; flips would change them).</summary>
    public static AugmentationPipeline Mnist(Normalize normalize) => new(normalize);

    /// <summary>Evaluation for any data set: normalisation only.</summary>
    public static AugmentationPipeline Evaluation(Normalize normalize) => new(normalize);

    public (int Channels, int Height, int Width) OutputShape(int channels, int height, int width)
    {
        var shape = (channels, height, width);
        foreach (var step in Steps)
        {
            shape = step.OutputShape(shape.channels, shape.height, shape.width);
        }

        return shape;
    }

    /// <summary>
    /// Writes the augmented <paramref name="image"/> (CHW bytes) into <paramref name="destination"/>, which
    /// holds exactly <see cref="OutputShape"/>'s elements.
    /// </summary>
    public void Apply(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (image.Length != channels * height * width)
        {
            throw new ArgumentException($"image holds {image.Length} bytes, not {channels}x{height}x{width}", nameof(image));
        }

        var output = OutputShape(channels, height, width);
        if (destination.Length != output.Channels * output.Height * output.Width)
        {
            throw new ArgumentException($"destination holds {destination.Length} floats, the pipeline makes {output}", nameof(destination));
        }

        int largest = image.Length;
        var shape = (channels, height, width);
        foreach (var step in Steps)
        {
            shape = step.OutputShape(shape.channels, shape.height, shape.width);
            largest = Math.Max(largest, shape.channels * shape.height * shape.width);
        }

        float[] a = ArrayPool<float>.Shared.Rent(largest), b = ArrayPool<float>.Shared.Rent(largest);
        try
        {
            for (int i = 0; i < image.Length; i++)
            {
                a[i] = image[i] / 255f;
            }

            shape = (channels, height, width);
            foreach (var step in Steps)
            {
                var next = step.OutputShape(shape.channels, shape.height, shape.width);
                step.Apply(a.AsSpan(0, shape.channels * shape.height * shape.width), shape.channels, shape.height, shape.width,
                    b.AsSpan(0, next.Channels * next.Height * next.Width), random);
                (a, b) = (b, a);
                shape = next;
            }

            a.AsSpan(0, destination.Length).CopyTo(destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(b);
        }
    }
}
