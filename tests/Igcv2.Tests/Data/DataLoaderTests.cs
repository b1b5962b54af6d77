using Igcv2.Data;

namespace Igcv2.Tests.Data;

public sealed class DataLoaderTests
{
    /// <summary>n images of 1x1x2 whose two bytes spell the image's index; label = index mod 10.</summary>
    private static Dataset Indexed(int count)
    {
        var pixels = new byte[count * 2];
        for (int i = 0; i < count; i++)
        {
            pixels[2 * i] = (byte)(i & 255);
            pixels[2 * i + 1] = (byte)(i >> 8);
        }

        return new Dataset("indexed", pixels, Enumerable.Range(0, count).Select(i => i % 10).ToArray(), 1, 1, 2, 10);
    }

    /// <summary>The indices of a batch built without augmentation (pixels / 255).</summary>
    private static int[] Indices(Batch batch) =>
        Enumerable.Range(0, batch.Count)
            .Select(i => (int)MathF.Round(batch.Images[2 * i] * 255) + 256 * (int)MathF.Round(batch.Images[2 * i + 1] * 255))
            .ToArray();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Every_sample_is_served_exactly_once_per_epoch(int prefetch)
    {
        var loader = new DataLoader(Indexed(1003), 10, new DataLoaderOptions { Seed = 7, Prefetch = prefetch });

        for (int epoch = 0; epoch < 3; epoch++)
        {
            var batches = loader.Epoch(epoch).ToList();

            Assert.Equal(101, batches.Count);
            Assert.Equal(101, loader.BatchesPerEpoch);
            Assert.All(batches.SkipLast(1), b => Assert.Equal(10, b.Count));
            Assert.Equal(3, batches[^1].Count);
            int[] served = batches.SelectMany(Indices).ToArray();
            Assert.Equal(Enumerable.Range(0, 1003), served.Order());
            Assert.Equal(loader.EpochOrder(epoch), served);
            Assert.All(batches, b => Assert.Equal(Indices(b).Select(i => i % 10), b.Labels));
        }
    }

    [Fact]
    public void DropLast_leaves_out_the_short_batch()
    {
        var loader = new DataLoader(Indexed(1003), 10, new DataLoaderOptions { DropLast = true });

        var batches = loader.Epoch(0).ToList();

        Assert.Equal(100, batches.Count);
        Assert.All(batches, b => Assert.Equal(10, b.Count));
        Assert.Equal(1000, batches.SelectMany(Indices).Distinct().Count());
    }

    [Fact]
    public void Without_shuffle_the_order_is_the_data_set_order()
    {
        var loader = new DataLoader(Indexed(25), 10, new DataLoaderOptions { Shuffle = false });

        Assert.Equal(Enumerable.Range(0, 25), loader.Epoch(4).SelectMany(Indices));
    }

    [Fact]
    public void Epochs_shuffle_differently_and_seeds_differ()
    {
        var a = new DataLoader(Indexed(200), 10, new DataLoaderOptions { Seed = 1 });
        var b = new DataLoader(Indexed(200), 10, new DataLoaderOptions { Seed = 2 });

        Assert.NotEqual(a.EpochOrder(0), a.EpochOrder(1));
        Assert.NotEqual(a.EpochOrder(0), b.EpochOrder(0));
        Assert.NotEqual(Enumerable.Range(0, 200), a.EpochOrder(0));
    }

    private static Dataset RandomImages(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 3 * 32 * 32];
        random.NextBytes(pixels);
        return new Dataset("random", pixels, Enumerable.Range(0, count).Select(i => i % 10).ToArray(), 3, 32, 32, 10);
    }

    [Fact]
    public void Augmented_batches_are_identical_for_the_same_seed_and_epoch_however_they_are_built()
    {
        var data = RandomImages(70, 1);
        var options = new DataLoaderOptions { Seed = 99, Augmentation = AugmentationPipeline.Cifar(Normalize.From(data)) };
        var prefetched = new DataLoader(data, 16, options);
        var synchronous = new DataLoader(data, 16, options with { Prefetch = 0 });

        var first = prefetched.Epoch(3).ToList();
        var second = synchronous.Epoch(3).ToList();
        var resumed = prefetched.Epoch(3, startBatch: 2).ToList();

        Assert.Equal(5, first.Count);
        for (int b = 0; b < first.Count; b++)
        {
            Assert.Equal(first[b].Images, second[b].Images);
            Assert.Equal(first[b].Labels, second[b].Labels);
            Assert.Equal(first[b].Images, prefetched.GetBatch(3, b).Images);
        }

        Assert.Equal(first.Skip(2).Select(b => b.Images), resumed.Select(b => b.Images));
        Assert.NotEqual(first[0].Images, prefetched.Epoch(4).First().Images);
        Assert.Equal(16 * 3 * 32 * 32, first[0].Images.Length);
        Assert.Equal((3, 32, 32), (prefetched.Channels, prefetched.Height, prefetched.Width));
    }

    [Fact]
    public void A_new_loader_resumes_an_epoch_exactly()
    {
        var data = RandomImages(40, 2);
        var options = new DataLoaderOptions { Seed = 5, Augmentation = AugmentationPipeline.Cifar(Normalize.From(data)) };

        var before = new DataLoader(data, 8, options).Epoch(6).ToList();
        var after = new DataLoader(data, 8, options).Epoch(6, startBatch: 3).ToList();

        Assert.Equal(before.Skip(3).Select(b => b.Images), after.Select(b => b.Images));
    }

    /// <summary>Counts images built and remembers the threads that built them.</summary>
    private sealed class Probe : Augmentation
    {
        public int Built;
        public readonly HashSet<int> Threads = [];

        public override (int Channels, int Height, int Width) OutputShape(int channels, int height, int width) => (channels, height, width);

        public override void Apply(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, Random random)
        {
            source[..destination.Length].CopyTo(destination);
            lock (Threads)
            {
                Threads.Add(Environment.CurrentManagedThreadId);
            }

            Interlocked.Increment(ref Built);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Prefetch_prepares_the_next_batches_in_the_background_and_no_further(int prefetch)
    {
        var probe = new Probe();
        var loader = new DataLoader(Indexed(100), 5, new DataLoaderOptions { Prefetch = prefetch, Augmentation = new AugmentationPipeline(probe) });

        using var batches = loader.Epoch(0).GetEnumerator();
        Assert.True(batches.MoveNext());

        // While the consumer holds batch 0, the next `prefetch` batches are built and wait. Nothing beyond.
        int expected = (1 + prefetch) * 5;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Volatile.Read(ref probe.Built) < expected && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
        }

        Thread.Sleep(100);
        Assert.Equal(expected, Volatile.Read(ref probe.Built));
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, probe.Threads);

        var served = new List<int>(Indices(batches.Current));
        while (batches.MoveNext())
        {
            served.AddRange(Indices(batches.Current));
        }

        Assert.Equal(loader.EpochOrder(0), served);
        Assert.Equal(100, probe.Built);
    }

    [Fact]
    public void Leaving_an_epoch_early_stops_the_background_task()
    {
        var probe = new Probe();
        var loader = new DataLoader(Indexed(1000), 5, new DataLoaderOptions { Augmentation = new AugmentationPipeline(probe) });

        foreach (var batch in loader.Epoch(0))
        {
            break;
        }

        int built = Volatile.Read(ref probe.Built);
        Thread.Sleep(50);
        Assert.Equal(built, Volatile.Read(ref probe.Built));
        Assert.True(built <= 3 * 5, $"{built} images built after leaving at batch 0");
    }

    private sealed class Failing : Augmentation
    {
        public override (int Channels, int Height, int Width) OutputShape(int channels, int height, int width) => (channels, height, width);

        public override void Apply(ReadOnlySpan<float> source, int channels, int height, int width, Span<float> destination, Random random) =>
            throw new InvalidOperationException("augmentation failed");
    }

    [Fact]
    public void A_failure_in_the_background_reaches_the_consumer()
    {
        var loader = new DataLoader(Indexed(10), 5, new DataLoaderOptions { Augmentation = new AugmentationPipeline(new Failing()) });

        var e = Assert.Throws<InvalidOperationException>(() => loader.Epoch(0).ToList());

        Assert.Equal("augmentation failed", e.Message);
    }
}
