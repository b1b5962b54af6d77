using System.Buffers.Binary;
using System.IO.Compression;
using Igcv2.Data;

namespace Igcv2.Tests.Data;

public sealed class MnistReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static byte[] IdxImages(int count, int rows, int columns, Func<int, int, byte> pixel, uint magic = Mnist.ImagesMagic)
    {
        var bytes = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), (uint)count);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), (uint)rows);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), (uint)columns);
        for (int n = 0; n < count; n++)
        {
            for (int p = 0; p < rows * columns; p++)
            {
                bytes[16 + n * rows * columns + p] = pixel(n, p);
            }
        }

        return bytes;
    }

    internal static byte[] IdxLabels(params byte[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Mnist.LabelsMagic);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), (uint)labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    private static byte Pixel(int n, int p) => (byte)(n * 31 + p * 7);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_images_and_labels_plain_or_gzipped(bool gzipped)
    {
        byte[] images = IdxImages(3, 4, 5, Pixel), labels = IdxLabels(7, 0, 9);
        string imagesPath = _dir.Write("images", gzipped ? Gzip(images) : images);
        string labelsPath = _dir.Write("labels", gzipped ? Gzip(labels) : labels);

        var data = Mnist.Load(imagesPath, labelsPath);

        Assert.Equal((3, 1, 4, 5, 10), (data.Count, data.Channels, data.Height, data.Width, data.Classes));
        Assert.Equal([7, 0, 9], data.Labels.ToArray());
        for (int n = 0; n < 3; n++)
        {
            for (int p = 0; p < 20; p++)
            {
                Assert.Equal(Pixel(n, p), data.Image(n)[p]);
            }
        }
    }

    [Fact]
    public void Reads_the_published_file_names_from_a_directory()
    {
        _dir.Write("t10k-images-idx3-ubyte.gz", Gzip(IdxImages(2, 28, 28, Pixel)));
        _dir.Write("t10k-labels-idx1-ubyte", IdxLabels(1, 2));

        var data = Mnist.LoadDirectory(_dir.Path, DatasetSplit.Test);

        Assert.Equal(2, data.Count);
        Assert.Equal([1, 2], data.Labels.ToArray());
    }

    [Fact]
    public void Bad_image_magic_names_file_and_offset_0()
    {
        string images = _dir.Write("images", IdxImages(2, 4, 4, Pixel, magic: 0x00000801));
        string labels = _dir.Write("labels", IdxLabels(1, 2));

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        AssertNames(e, images, 0);
        Assert.Contains("0x00000801", e.Message);
    }

    [Fact]
    public void Bad_label_magic_names_file_and_offset_0()
    {
        string images = _dir.Write("images", IdxImages(2, 4, 4, Pixel));
        var labelBytes = IdxLabels(1, 2);
        labelBytes[3] = 0x03;
        string labels = _dir.Write("labels", labelBytes);

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        AssertNames(e, labels, 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_images_name_the_offset_where_the_data_ends(bool gzipped)
    {
        byte[] full = IdxImages(3, 4, 4, Pixel);
        byte[] cut = full[..(16 + 2 * 16 + 5)];
        string images = _dir.Write("images", gzipped ? Gzip(cut) : cut);
        string labels = _dir.Write("labels", IdxLabels(1, 2, 3));

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        AssertNames(e, images, 16 + 2 * 16 + 5);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_file_that_ends_inside_the_header_names_its_length()
    {
        string images = _dir.Write("images", IdxImages(3, 4, 4, Pixel)[..10]);
        string labels = _dir.Write("labels", IdxLabels(1, 2, 3));

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        AssertNames(e, images, 10);
    }

    [Fact]
    public void A_truncated_gzip_stream_is_an_error_not_a_short_data_set()
    {
        byte[] gz = Gzip(IdxImages(50, 28, 28, (n, p) => (byte)(n ^ p)));
        string images = _dir.Write("images.gz", gz[..(gz.Length / 2)]);
        string labels = _dir.Write("labels", IdxLabels(new byte[50]));

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        Assert.Equal(images, e.FilePath);
        Assert.Contains(images, e.Message);
        Assert.InRange(e.Offset, 0, 16 + 50 * 784 - 1);
    }

    [Fact]
    public void Label_out_of_range_names_its_byte()
    {
        string images = _dir.Write("images", IdxImages(3, 4, 4, Pixel));
        string labels = _dir.Write("labels", Gzip(IdxLabels(1, 10, 3)));

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        AssertNames(e, labels, 9);
        Assert.Contains("label 10", e.Message);
    }

    [Fact]
    public void Dimensions_that_do_not_match_the_data_are_an_error()
    {
        // The header says 4x4 but each image has 5x5 bytes: 3 * 9 bytes too many.
        byte[] bytes = IdxImages(3, 5, 5, Pixel);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), 4);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), 4);
        string images = _dir.Write("images", bytes);
        string labels = _dir.Write("labels", IdxLabels(1, 2, 3));

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        AssertNames(e, images, 16 + 3 * 16);
        Assert.Contains("wrong dimensions", e.Message);
    }

    [Fact]
    public void Zero_rows_is_an_error_at_the_rows_field()
    {
        byte[] bytes = IdxImages(3, 4, 4, Pixel);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), 0);
        string images = _dir.Write("images", bytes);
        string labels = _dir.Write("labels", IdxLabels(1, 2, 3));

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        AssertNames(e, images, 8);
    }

    [Fact]
    public void Label_count_differing_from_image_count_names_the_label_count_field()
    {
        string images = _dir.Write("images", IdxImages(3, 4, 4, Pixel));
        string labels = _dir.Write("labels", IdxLabels(1, 2));

        var e = Assert.Throws<DataFormatException>(() => Mnist.Load(images, labels));

        AssertNames(e, labels, 4);
    }

    internal static void AssertNames(DataFormatException e, string file, long offset)
    {
        Assert.Equal(file, e.FilePath);
        Assert.Equal(offset, e.Offset);
        Assert.StartsWith($"{file}: at byte {offset}: ", e.Message);
    }
}
