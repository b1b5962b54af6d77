using System.Collections.Concurrent;

namespace Igcv2.Data;

/// <summary>How a <see cref="DataLoader"/> orders, augments and prefetches.</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Shuffle every epoch (the order derives from <see cref="Seed"/> and the epoch number).</summary>
    public bool Shuffle { get; init; } = true;

    public int Seed { get; init; }

    /// <summary>Leave out the last batch when it is smaller than the batch size.</summary>
    public bool DropLast { get; init; }

    /// <summary>Applied to every image; null gives the pixels scaled to [0, 1].</summary>
    public AugmentationPipeline? Augmentation { get; init; }

    /// <summary>
    /// Batches prepared ahead on a background task while the consumer works on the current one (0 = none,
    /// at most 2).
    /// </summary>
    public int Prefetch { get; init; } = 2;

    /// <summary>
    /// Data-parallel training: this process's index among <see cref="Processes"/>. Every batch stays the global
    /// batch of <c>batchSize</c> images; the loader serves this process's share of it, the images
    /// [N r / P, N (r + 1) / P) of a batch of N (<see cref="DataLoader.ShareOf"/>). Order and augmentation do not
    /// depend on the process count, so P processes see exactly the images of the one-process batches.
    /// </summary>
    public int Rank { get; init; }

    /// <summary>The number of processes the batches are shared among (1: the loader serves whole batches).</summary>
    public int Processes { get; init; } = 1;
}

/// <summary>
/// Mini-batches of a <see cref="Dataset"/>. Everything random is a pure function of (seed, epoch): the epoch's
/// order comes from a <see cref="Random"/> seeded by (seed, epoch), and each image's augmentation from one
/// seeded by (seed, epoch, position in the epoch). A batch is therefore the same whether it was prefetched,
/// built on another thread, or requested alone after a restart (<see cref="GetBatch"/>, or
/// <see cref="Epoch"/> with a start batch).
/// </summary>
public sealed class DataLoader
{
    private const int MaxPrefetch = 2;
    private readonly AugmentationPipeline _augmentation;

    public DataLoader(Dataset dataset, int batchSize, DataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        options ??= new DataLoaderOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Prefetch, nameof(options.Prefetch));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Prefetch, MaxPrefetch, nameof(options.Prefetch));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Processes, 1, nameof(options.Processes));
        ArgumentOutOfRangeException.ThrowIfNegative(options.Rank, nameof(options.Rank));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(options.Rank, options.Processes, nameof(options.Rank));
        Dataset = dataset;
        BatchSize = batchSize;
        Options = options;
        _augmentation = options.Augmentation ?? new AugmentationPipeline();
        (Channels, Height, Width) = _augmentation.OutputShape(dataset.Channels, dataset.Height, dataset.Width);
        BatchesPerEpoch = options.DropLast ? dataset.Count / batchSize : (dataset.Count + batchSize - 1) / batchSize;
    }

    public Dataset Dataset { get; }

    public int BatchSize { get; }

    public DataLoaderOptions Options { get; }

    /// <summary>Shape of one image in a batch (after augmentation).</summary>
    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Floats per image in <see cref="Batch.Images"/>.</summary>
    public int SampleSize => Channels * Height * Width;

    public int BatchesPerEpoch { get; }

    /// <summary>The data-set indices of <paramref name="epoch"/> in the order they are served.</summary>
    public int[] EpochOrder(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var order = new int[Dataset.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        if (Options.Shuffle)
        {
            var random = new Random(DeriveSeed(Options.Seed, epoch, -1));
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = random.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        return order;
    }

    /// <summary>Batch <paramref name="batchIndex"/> of <paramref name="epoch"/>, built now on this thread.</summary>
    public Batch GetBatch(int epoch, int batchIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batchIndex, BatchesPerEpoch);
        return Build(EpochOrder(epoch), epoch, batchIndex);
    }

    /// <summary>
    /// The batches of <paramref name="epoch"/> from <paramref name="startBatch"/> on (resume mid-epoch), with
    /// up to <see cref="DataLoaderOptions.Prefetch"/> batches prepared ahead on a background task. Each batch
    /// owns its arrays. Disposing the enumerator (leaving a foreach) stops the background task.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch, int startBatch = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(startBatch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(startBatch, BatchesPerEpoch);
        return Options.Prefetch == 0
            ? Synchronous(epoch, startBatch, cancellationToken)
            : Prefetched(epoch, startBatch, cancellationToken);
    }

    private IEnumerable<Batch> Synchronous(int epoch, int startBatch, CancellationToken cancellationToken)
    {
        int[] order = EpochOrder(epoch);
        for (int b = startBatch; b < BatchesPerEpoch; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return Build(order, epoch, b);
        }
    }

    private IEnumerable<Batch> Prefetched(int epoch, int startBatch, CancellationToken cancellationToken)
    {
        // A slot per batch allowed ahead of the consumer: the producer takes one before building a batch and
        // the consumer gives it back when it takes the batch, so at most Prefetch batches wait, built.
        using var slots = new SemaphoreSlim(Options.Prefetch);
        using var ready = new BlockingCollection<Batch>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(() =>
        {
            try
            {
                int[] order = EpochOrder(epoch);
                for (int b = startBatch; b < BatchesPerEpoch; b++)
                {
                    slots.Wait(stop.Token);
                    ready.Add(Build(order, epoch, b));
                }
            }
            finally
            {
                ready.CompleteAdding();
            }
        });

        try
        {
            foreach (var batch in ready.GetConsumingEnumerable(cancellationToken))
            {
                slots.Release();
                yield return batch;
            }

            // Surfaces an exception from the producer (a failing augmentation) to the consumer.
            producer.GetAwaiter().GetResult();
        }
        finally
        {
            // The consumer may leave early: stop the producer and wait for it without rethrowing (its
            // cancellation is expected; its failure, if any, was rethrown above).
            stop.Cancel();
            Task.WaitAny(producer);
        }
    }

    /// <summary>
    /// The part of a global batch of <paramref name="count"/> images that process <paramref name="rank"/> of
    /// <paramref name="processes"/> takes: offsets [count rank / P, count (rank + 1) / P), so shares differ by at most one.
    /// </summary>
    public static (int Start, int Count) ShareOf(int count, int rank, int processes)
    {
        int from = (int)((long)count * rank / processes), to = (int)((long)count * (rank + 1) / processes);
        return (from, to - from);
    }

    /// <summary>The most images one process's share of a batch holds (the batch size its model needs).</summary>
    public int LocalBatchSize => (BatchSize + Options.Processes - 1) / Options.Processes;

    private Batch Build(int[] order, int epoch, int batchIndex)
    {
        int start = batchIndex * BatchSize;
        int count = Math.Min(BatchSize, order.Length - start);
        if (Options.Processes > 1)
        {
            // This process's share; each image keeps its position in the epoch, hence its augmentation.
            var (offset, share) = ShareOf(count, Options.Rank, Options.Processes);
            start += offset;
            count = share;
        }
        int sampleSize = SampleSize;
        var images = new float[count * sampleSize];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int index = order[start + i];
            var random = new Random(DeriveSeed(Options.Seed, epoch, start + i));
            _augmentation.Apply(Dataset.Image(index), Dataset.Channels, Dataset.Height, Dataset.Width,
                images.AsSpan(i * sampleSize, sampleSize), random);
            labels[i] = Dataset.Label(index);
        }

        return new Batch(images, labels, count);
    }

    /// <summary>A 31-bit seed from (seed, epoch, stream) through SplitMix64: unrelated streams, no overlap.</summary>
    internal static int DeriveSeed(int seed, int epoch, int stream)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        z = Mix(z ^ (ulong)(uint)epoch);
        z = Mix(z ^ (ulong)(uint)stream * 0xBF58476D1CE4E5B9UL);
        return (int)(z >> 33);

        static ulong Mix(ulong x)
        {
            x += 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }
    }
}
