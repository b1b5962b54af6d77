using Igcv2.Data;

namespace Igcv2.Tests.Data;

public sealed class CifarReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Record r: label bytes, then R, G, B planes where plane c pixel p = (r + 3c + p) mod 256.</summary>
    private static byte[] Records(int count, Func<int, byte[]> labels)
    {
        var output = new List<byte>();
        for (int r = 0; r < count; r++)
        {
            output.AddRange(labels(r));
            for (int c = 0; c < 3; c++)
            {
                for (int p = 0; p < 1024; p++)
                {
                    output.Add((byte)(r + 3 * c + p));
                }
            }
        }

        return [.. output];
    }

    private static void AssertPixels(Dataset data, int index, int record)
    {
        var image = data.Image(index);
        for (int c = 0; c < 3; c++)
        {
            for (int p = 0; p < 1024; p += 97)
            {
                Assert.Equal((byte)(record + 3 * c + p), image[c * 1024 + p]);
            }
        }
    }

    [Fact]
    public void Cifar10_reads_the_five_training_batches_in_order_and_the_test_batch()
    {
        for (int i = 1; i <= 5; i++)
        {
            _dir.Write($"cifar-10-batches-bin/data_batch_{i}.bin", Records(2, r => [(byte)((i + r) % 10)]));
        }

        _dir.Write("cifar-10-batches-bin/test_batch.bin", Records(3, r => [(byte)(9 - r)]));

        // The parent of the extracted folder works as well as the folder itself.
        var train = Cifar.LoadCifar10(_dir.Path, DatasetSplit.Train);
        var test = Cifar.LoadCifar10(_dir.File("cifar-10-batches-bin"), DatasetSplit.Test);

        Assert.Equal((10, 3, 32, 32, 10), (train.Count, train.Channels, train.Height, train.Width, train.Classes));
        Assert.Equal([1, 2, 2, 3, 3, 4, 4, 5, 5, 6], train.Labels.ToArray());
        Assert.Equal([9, 8, 7], test.Labels.ToArray());
        AssertPixels(train, 3, record: 1);
        AssertPixels(test, 2, record: 2);
    }

    [Fact]
    public void Cifar10_truncated_record_names_file_and_record_start()
    {
        string path = _dir.Write("batch.bin", Records(3, _ => [1])[..(2 * 3073 + 100)]);

        var e = Assert.Throws<DataFormatException>(() => Cifar.ReadCifar10([path]));

        MnistReaderTests.AssertNames(e, path, 2 * 3073);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Cifar10_label_out_of_range_names_its_byte()
    {
        string good = _dir.Write("a.bin", Records(2, _ => [0]));
        string bad = _dir.Write("b.bin", Records(3, r => [(byte)(r == 2 ? 10 : 0)]));

        var e = Assert.Throws<DataFormatException>(() => Cifar.ReadCifar10([good, bad]));

        MnistReaderTests.AssertNames(e, bad, 2 * 3073);
    }

    [Fact]
    public void Cifar10_empty_file_is_an_error()
    {
        string path = _dir.Write("empty.bin", []);

        var e = Assert.Throws<DataFormatException>(() => Cifar.ReadCifar10([path]));

        MnistReaderTests.AssertNames(e, path, 0);
    }

    [Fact]
    public void Cifar100_reads_fine_labels_by_default_and_coarse_on_request()
    {
        _dir.Write("cifar-100-binary/train.bin", Records(4, r => [(byte)(19 - r), (byte)(90 + r)]));

        var fine = Cifar.LoadCifar100(_dir.Path, DatasetSplit.Train);
        var coarse = Cifar.LoadCifar100(_dir.Path, DatasetSplit.Train, CifarLabels.Coarse);

        Assert.Equal((4, 100), (fine.Count, fine.Classes));
        Assert.Equal([90, 91, 92, 93], fine.Labels.ToArray());
        Assert.Equal(20, coarse.Classes);
        Assert.Equal([19, 18, 17, 16], coarse.Labels.ToArray());
        AssertPixels(fine, 3, record: 3);
    }

    [Fact]
    public void Cifar100_fine_label_out_of_range_names_its_byte()
    {
        string path = _dir.Write("test.bin", Records(2, r => [0, (byte)(r == 1 ? 100 : 5)]));

        var e = Assert.Throws<DataFormatException>(() => Cifar.ReadCifar100([path]));

        MnistReaderTests.AssertNames(e, path, 3074 + 1);
        Assert.Contains("fine label 100", e.Message);
    }

    [Fact]
    public void Cifar100_coarse_label_out_of_range_is_an_error_even_when_reading_fine()
    {
        string path = _dir.Write("test.bin", Records(2, r => [(byte)(r == 1 ? 20 : 0), 5]));

        var e = Assert.Throws<DataFormatException>(() => Cifar.ReadCifar100([path]));

        MnistReaderTests.AssertNames(e, path, 3074);
    }

    [Fact]
    public void Cifar100_file_with_cifar10_records_is_truncated()
    {
        // 3073-byte records read as 3074-byte ones: the wrong format shows up as a partial last record.
        string path = _dir.Write("train.bin", Records(3, _ => [1]));

        var e = Assert.Throws<DataFormatException>(() => Cifar.ReadCifar100([path]));

        MnistReaderTests.AssertNames(e, path, 2 * 3074);
    }

    [Fact]
    public void A_missing_batch_file_names_the_file()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Cifar.LoadCifar10(_dir.Path, DatasetSplit.Test));

        Assert.Contains("test_batch.bin", e.Message);
    }
}
