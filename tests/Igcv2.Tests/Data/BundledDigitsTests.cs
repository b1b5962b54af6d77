using System.Text;
using Igcv2.Data;
using Xunit.Abstractions;

namespace Igcv2.Tests.Data;

public sealed class BundledDigitsTests(ITestOutputHelper output)
{
    // The stratified order of data/mnist (see its README): every class in proportion in both parts.
    private static readonly int[] TrainBalance = [801, 902, 793, 826, 784, 690, 811, 856, 755, 782];
    private static readonly int[] TestBalance = [200, 225, 198, 206, 196, 173, 203, 214, 189, 196];

    private static readonly Lazy<(Dataset Train, Dataset Test)> Embedded = new(() => BundledDigits.Load());

    [Fact]
    public void Embedded_digits_are_10000_images_of_28x28_split_8000_2000()
    {
        var (train, test) = Embedded.Value;

        Assert.Equal((8000, 2000), (train.Count, test.Count));
        foreach (var part in new[] { train, test })
        {
            Assert.Equal((1, 28, 28, 10), (part.Channels, part.Height, part.Width, part.Classes));
            Assert.All(part.Labels.ToArray(), l => Assert.InRange(l, 0, 9));
        }

        Assert.Equal(TrainBalance, train.ClassCounts());
        Assert.Equal(TestBalance, test.ClassCounts());
    }

    [Fact]
    public void Pixel_statistics_are_those_of_mnist()
    {
        var (train, test) = Embedded.Value;

        var (mean, std) = train.ChannelStatistics();
        var (testMean, _) = test.ChannelStatistics();

        output.WriteLine($"train mean {mean[0]:F4} std {std[0]:F4}, test mean {testMean[0]:F4}");
        Assert.InRange(mean[0], 0.12f, 0.14f);
        Assert.InRange(std[0], 0.29f, 0.32f);
        Assert.InRange(testMean[0], 0.12f, 0.14f);
    }

    [Fact]
    public void Digits_have_ink_in_the_middle_and_a_blank_border()
    {
        var (train, _) = Embedded.Value;

        for (int i = 0; i < 4; i++)
        {
            output.WriteLine($"label {train.Label(i)}");
            output.WriteLine(Ascii(train.Image(i)));
        }

        // MNIST digits are centred in a 20x20 box by their centre of mass: the outer 2-pixel frame is nearly
        // blank, the centre 20x20 holds the ink.
        long frame = 0, centre = 0;
        for (int i = 0; i < train.Count; i++)
        {
            var image = train.Image(i);
            for (int y = 0; y < 28; y++)
            {
                for (int x = 0; x < 28; x++)
                {
                    bool border = y < 2 || y >= 26 || x < 2 || x >= 26;
                    bool inCentre = y is >= 4 and < 24 && x is >= 4 and < 24;
                    if (border)
                    {
                        frame += image[y * 28 + x];
                    }
                    else if (inCentre)
                    {
                        centre += image[y * 28 + x];
                    }
                }
            }
        }

        Assert.True(frame * 100 < centre, $"border ink {frame} vs centre ink {centre}");
    }

    [Fact]
    public void Files_in_the_repository_data_folder_give_the_same_digits()
    {
        string data = Path.Combine(RepositoryRoot(), "data");

        var (train, test) = BundledDigits.Load(data);
        var (embeddedTrain, embeddedTest) = Embedded.Value;

        Assert.Equal(embeddedTrain.Pixels.ToArray(), train.Pixels.ToArray());
        Assert.Equal(embeddedTest.Labels.ToArray(), test.Labels.ToArray());
        Assert.Equal(8000, BundledDigits.Load(Path.Combine(data, "mnist")).Train.Count);
    }

    [Fact]
    public void Default_mnist_loader_normalises_to_zero_mean_unit_std()
    {
        var (train, _) = Embedded.Value;
        var loader = new DataLoader(train, 500, new DataLoaderOptions { Seed = 1, Augmentation = AugmentationPipeline.Mnist(Normalize.From(train)) });

        double sum = 0, sumSquares = 0, n = 0;
        foreach (var batch in loader.Epoch(0))
        {
            foreach (float v in batch.Images.AsSpan(0, batch.Count * 784))
            {
                sum += v;
                sumSquares += v * v;
                n++;
            }
        }

        Assert.Equal(8000 * 784, n);
        Assert.Equal(0, sum / n, 1e-3);
        Assert.Equal(1, Math.Sqrt(sumSquares / n), 1e-3);
    }

    private static string Ascii(ReadOnlySpan<byte> image)
    {
        var text = new StringBuilder();
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 28; x++)
            {
                text.Append(" .:-=+*#%@"[image[y * 28 + x] * 10 / 256]);
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Igcv2Gen.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("no Igcv2Gen.sln above " + AppContext.BaseDirectory);
    }
}
