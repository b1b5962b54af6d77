namespace Igcv2.Data;

/// <summary>
/// Labelled images in memory: <see cref="Count"/> images of <see cref="Channels"/> x <see cref="Height"/>
/// x <see cref="Width"/> bytes each (CHW, 0-255, every published format here is 8-bit), one class index per
/// image. Immutable: <see cref="Subset(int, int, string?)"/> and <see cref="Split"/> copy.
/// </summary>
public sealed class Dataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    public Dataset(string name, byte[] pixels, int[] labels, int channels, int height, int width, int classes)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        long sampleSize = (long)channels * height * width;
        if (pixels.LongLength != sampleSize * labels.Length)
        {
            throw new ArgumentException(
                $"{pixels.LongLength} pixel bytes is not {labels.Length} images of {channels}x{height}x{width}", nameof(pixels));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                throw new ArgumentException($"label {labels[i]} of image {i} is outside [0, {classes})", nameof(labels));
            }
        }

        Name = name;
        _pixels = pixels;
        _labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        Classes = classes;
    }

    public string Name { get; }

    public int Count => _labels.Length;

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Number of classes; every label is in [0, Classes).</summary>
    public int Classes { get; }

    /// <summary>Bytes per image: Channels x Height x Width.</summary>
    public int SampleSize => Channels * Height * Width;

    /// <summary>All images, CHW each, image after image.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>Image <paramref name="index"/>, CHW bytes.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return _pixels.AsSpan(index * SampleSize, SampleSize);
    }

    public int Label(int index) => _labels[index];

    /// <summary>The images <c>[start, start + count)</c>.</summary>
    public Dataset Subset(int start, int count, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, Count - count, nameof(start));
        return new Dataset(
            name ?? $"{Name}[{start}..{start + count})",
            _pixels.AsSpan(start * SampleSize, count * SampleSize).ToArray(),
            _labels.AsSpan(start, count).ToArray(),
            Channels, Height, Width, Classes);
    }

    /// <summary>The images at <paramref name="indices"/>, in that order (repeats allowed).</summary>
    public Dataset Subset(IReadOnlyList<int> indices, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var pixels = new byte[(long)indices.Count * SampleSize];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Image(indices[i]).CopyTo(pixels.AsSpan(i * SampleSize, SampleSize));
            labels[i] = _labels[indices[i]];
        }

        return new Dataset(name ?? $"{Name}[{indices.Count} selected]", pixels, labels, Channels, Height, Width, Classes);
    }

    /// <summary>The first <paramref name="firstCount"/> images and the rest, in order (a fixed split).</summary>
    public (Dataset First, Dataset Second) Split(int firstCount) =>
        (Subset(0, firstCount), Subset(firstCount, Count - firstCount));

    /// <summary>How many images each class has.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes];
        foreach (int label in _labels)
        {
            counts[label]++;
        }

        return counts;
    }

    /// <summary>
    /// Per-channel mean and standard deviation of the pixels scaled to [0, 1] (population std, over every
    /// pixel of every image): the normalisation statistics of a training set.
    /// </summary>
    public (float[] Mean, float[] Std) ChannelStatistics()
    {
        var mean = new float[Channels];
        var std = new float[Channels];
        int plane = Height * Width;
        for (int c = 0; c < Channels; c++)
        {
            // Integer sums are exact; doubles would drift over 10^8 pixels.
            long sum = 0, sumSquares = 0;
            for (int i = 0; i < Count; i++)
            {
                foreach (byte v in _pixels.AsSpan(i * SampleSize + c * plane, plane))
                {
                    sum += v;
                    sumSquares += v * v;
                }
            }

            double n = (double)Count * plane;
            double m = sum / n;
            double variance = Math.Max(0, sumSquares / n - m * m);
            mean[c] = (float)(m / 255);
            std[c] = (float)(Math.Sqrt(variance) / 255);
        }

        return (mean, std);
    }

    public override string ToString() => $"{Name}: {Count} images {Channels}x{Height}x{Width}, {Classes} classes";
}
