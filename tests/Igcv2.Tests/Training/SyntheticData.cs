using Igcv2.Data;
using Igcv2.Training;

namespace Igcv2.Tests.Training;

/// <summary>
/// Gaussian blobs around one random centre per class: linearly separable with a wide margin. Batches come
/// in the order <see cref="EpochShuffle"/> gives for (seed, epoch), the last one partial.
/// </summary>
internal sealed class SyntheticData
{
    private readonly float[] images;
    private readonly int[] labels;

    public SyntheticData(int count, int features, int classes, int seed, float noise = 0.5f)
    {
        Count = count;
        Features = features;
        var random = new Random(seed);
        var centres = Enumerable.Range(0, classes * features).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        images = new float[count * features];
        labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % classes;
            labels[i] = label;
            for (var d = 0; d < features; d++) images[i * features + d] = centres[label * features + d] + noise * Gaussian(random);
        }
    }

    public int Count { get; }

    public int Features { get; }

    public int StepsPerEpoch(int batchSize) => (Count + batchSize - 1) / batchSize;

    /// <summary>The shuffled batches of <paramref name="epoch"/> under <paramref name="seed"/>.</summary>
    public IEnumerable<Batch> Epoch(int seed, int epoch, int batchSize)
    {
        var order = EpochShuffle.Permutation(seed, epoch, Count);
        return Batches(order, batchSize);
    }

    /// <summary>The samples in stored order (a test set).</summary>
    public IEnumerable<Batch> InOrder(int batchSize) => Batches(Enumerable.Range(0, Count).ToArray(), batchSize);

    private IEnumerable<Batch> Batches(int[] order, int batchSize)
    {
        for (var start = 0; start < Count; start += batchSize)
        {
            var n = Math.Min(batchSize, Count - start);
            var x = new float[n * Features];
            var y = new int[n];
            for (var i = 0; i < n; i++)
            {
                var source = order[start + i];
                Array.Copy(images, source * Features, x, i * Features, Features);
                y[i] = labels[source];
            }
            yield return new Batch(x, y, n);
        }
    }

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
