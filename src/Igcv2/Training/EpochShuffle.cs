namespace Igcv2.Training;

/// <summary>
/// The data order of an epoch as a pure function of (seed, epoch): a Fisher-Yates shuffle driven by
/// SplitMix64, fixed here rather than borrowed from <see cref="Random"/> (whose sequence .NET does not
/// promise to keep). A loader that draws its order from it makes resumed runs see the same batches.
/// </summary>
public static class EpochShuffle
{
    /// <summary>The name stored in checkpoints for this algorithm.</summary>
    public const string Algorithm = "splitmix64-fisher-yates-v1";

    /// <summary>A permutation of 0..count-1 for <paramref name="epoch"/> of a run seeded with <paramref name="seed"/>.</summary>
    public static int[] Permutation(int seed, int epoch, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = new int[count];
        for (var i = 0; i < count; i++) order[i] = i;
        var state = ((ulong)(uint)seed << 32) ^ (uint)epoch ^ 0x9E3779B97F4A7C15UL;
        for (var i = count - 1; i > 0; i--)
        {
            var j = (int)(Next(ref state) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
