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

    /// <summary>
    /// Handwritten digits: rotations up to 10 degrees, scaling by 0.9-1.1 and shifts up to 2 pixels, normalise. No
    /// flips: a mirrored 2 is no digit.
    /// </summary>
    public static AugmentationPipeline Digits(Normalize normalize) =>
        new(new RandomAffine(10, 0.9, 1.1, 2), normalize);

    /// <summary>
    /// Photographs and other mirror-symmetric classes (Fashion-MNIST, CIFAR): zero-pad by <paramref name="padding"/>
    /// (default: an eighth of the side, CIFAR's 4 at 32), random <paramref name="size"/> x <paramref name="size"/>
    /// crop, horizontal flip, normalise.
    /// </summary>
    public static AugmentationPipeline FlipCrop(Normalize normalize, int size, int? padding = null) =>
        new(new RandomCrop(size, padding ?? Math.Max(1, size / 8)), new HorizontalFlip(), normalize);

    /// <summary>One of the presets for images of side <paramref name="size"/>: what a command-line option or a config file names.</summary>
    public static AugmentationPipeline From(AugmentationPreset preset, Normalize normalize, int size) => preset switch
    {
        AugmentationPreset.Digits => Digits(normalize),
        AugmentationPreset.FlipCrop => FlipCrop(normalize, size),
        AugmentationPreset.None => new(normalize),
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "Use Digits, FlipCrop or None."),
    };

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

/// <summary>The training augmentations a data set of any origin can be given (IDX files hold digits, clothes, letters...).</summary>
public enum AugmentationPreset
{
    /// <summary><see cref="AugmentationPipeline.Digits"/>: small rotations, scalings and shifts, no flips.</summary>
    Digits,

    /// <summary><see cref="AugmentationPipeline.FlipCrop"/>: padded random crops and horizontal flips.</summary>
    FlipCrop,

    /// <summary>Normalisation only.</summary>
    None,
}
