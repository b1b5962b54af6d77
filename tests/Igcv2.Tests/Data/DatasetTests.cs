using Igcv2.Data;

namespace Igcv2.Tests.Data;

public sealed class DatasetTests
{
    private static Dataset Numbered(int count) =>
        new("numbered", Enumerable.Range(0, count * 4).Select(i => (byte)i).ToArray(),
            Enumerable.Range(0, count).Select(i => i % 3).ToArray(), 1, 2, 2, 3);

    [Fact]
    public void Subset_and_Split_copy_the_chosen_images_and_labels()
    {
        var data = Numbered(10);

        var (first, second) = data.Split(7);
        var picked = data.Subset([9, 0, 9]);

        Assert.Equal((7, 3), (first.Count, second.Count));
        Assert.Equal(data.Pixels[28..].ToArray(), second.Pixels.ToArray());
        Assert.Equal([1, 2, 0], second.Labels.ToArray());
        Assert.Equal([0, 0, 0], picked.Labels.ToArray());
        Assert.Equal(new byte[] { 36, 37, 38, 39, 0, 1, 2, 3, 36, 37, 38, 39 }, picked.Pixels.ToArray());
        Assert.Equal((1, 2, 2, 3), (second.Channels, second.Height, second.Width, second.Classes));
    }

    [Fact]
    public void ClassCounts_counts_labels()
    {
        Assert.Equal([4, 3, 3], Numbered(10).ClassCounts());
    }

    [Fact]
    public void ChannelStatistics_are_per_channel_on_the_unit_scale()
    {
        // Channel 0: 0 and 255 (mean 0.5, std 0.5); channel 1: 51 everywhere (mean 0.2, std 0).
        var data = new Dataset("two", [0, 255, 51, 51, 255, 0, 51, 51], [0, 1], 2, 1, 2, 2);

        var (mean, std) = data.ChannelStatistics();

        Assert.Equal(0.5f, mean[0], 1e-6f);
        Assert.Equal(0.5f, std[0], 1e-6f);
        Assert.Equal(0.2f, mean[1], 1e-6f);
        Assert.Equal(0f, std[1], 1e-6f);
        Assert.Equal(1f, Normalize.From(data).Std[1]);
    }

    [Fact]
    public void Constructor_rejects_labels_outside_the_classes_and_wrong_pixel_counts()
    {
        Assert.Throws<ArgumentException>(() => new Dataset("bad", new byte[8], [0, 3], 1, 2, 2, 3));
        Assert.Throws<ArgumentException>(() => new Dataset("bad", new byte[7], [0, 1], 1, 2, 2, 3));
    }
}
