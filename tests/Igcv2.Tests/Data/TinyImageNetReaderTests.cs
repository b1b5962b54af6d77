using System.Text;
using Igcv2.Data;
using SkiaSharp;

namespace Igcv2.Tests.Data;

public sealed class TinyImageNetReaderTests : IDisposable
{
    private static readonly string[] Wnids = ["n01443537", "n01629819", "n01641577"];
    private static readonly (byte R, byte G, byte B)[] Colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static byte[] Jpeg(int width, int height, (byte R, byte G, byte B) colour, bool gray = false)
    {
        var info = new SKImageInfo(width, height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        bitmap.Erase(new SKColor(colour.R, colour.G, colour.B));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 95);
        return data.ToArray();
    }

    /// <summary>A JPEG whose scan data is most of the file, so cutting it in half cuts the pixels, not the header.</summary>
    private static byte[] NoiseJpeg()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var random = new Random(1);
        for (int y = 0; y < 64; y++)
        {
            for (int x = 0; x < 64; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
            }
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 95);
        return data.ToArray();
    }

    /// <summary>Two training images per class (class c in colour c), three val images in a given order.</summary>
    private void WriteLayout(string? annotations = null)
    {
        _dir.Write("wnids.txt", Encoding.ASCII.GetBytes(string.Join("\n", Wnids) + "\n"));
        for (int c = 0; c < Wnids.Length; c++)
        {
            for (int i = 0; i < 2; i++)
            {
                _dir.Write($"train/{Wnids[c]}/images/{Wnids[c]}_{i}.JPEG", Jpeg(64, 64, Colours[c]));
            }

            _dir.Write($"train/{Wnids[c]}/{Wnids[c]}_boxes.txt", Encoding.ASCII.GetBytes("ignored\n"));
        }

        for (int i = 0; i < 3; i++)
        {
            _dir.Write($"val/images/val_{i}.JPEG", Jpeg(64, 64, Colours[2 - i]));
        }

        annotations ??= $"val_0.JPEG\t{Wnids[2]}\t0\t0\t63\t63\nval_1.JPEG\t{Wnids[1]}\t1\t2\t3\t4\r\nval_2.JPEG\t{Wnids[0]}\t5\t6\t7\t8\n";
        _dir.Write("val/val_annotations.txt", Encoding.ASCII.GetBytes(annotations));
    }

    private static void AssertColour(Dataset data, int index, (byte R, byte G, byte B) colour)
    {
        var image = data.Image(index);
        byte[] expected = [colour.R, colour.G, colour.B];
        for (int c = 0; c < 3; c++)
        {
            foreach (int p in new[] { 0, 63, 2080, 4095 })
            {
                Assert.InRange(image[c * 4096 + p], expected[c] - 6, expected[c] + 6);
            }
        }
    }

    [Fact]
    public void Reads_training_images_by_class_in_wnids_order()
    {
        WriteLayout();

        var train = TinyImageNet.Load(_dir.Path, DatasetSplit.Train, SkiaJpegDecoder.Instance);

        Assert.Equal((6, 3, 64, 64, 3), (train.Count, train.Channels, train.Height, train.Width, train.Classes));
        Assert.Equal([0, 0, 1, 1, 2, 2], train.Labels.ToArray());
        for (int i = 0; i < 6; i++)
        {
            AssertColour(train, i, Colours[i / 2]);
        }
    }

    [Fact]
    public void Reads_validation_images_labelled_by_the_annotations()
    {
        WriteLayout();

        var val = TinyImageNet.Load(_dir.Path, DatasetSplit.Test, SkiaJpegDecoder.Instance);

        Assert.Equal([2, 1, 0], val.Labels.ToArray());
        for (int i = 0; i < 3; i++)
        {
            AssertColour(val, i, Colours[2 - i]);
        }
    }

    [Fact]
    public void Grayscale_jpegs_become_three_equal_channels()
    {
        WriteLayout();
        _dir.Write($"train/{Wnids[0]}/images/{Wnids[0]}_0.JPEG", Jpeg(64, 64, (120, 120, 120), gray: true));

        var train = TinyImageNet.Load(_dir.Path, DatasetSplit.Train, SkiaJpegDecoder.Instance);

        AssertColour(train, 0, (120, 120, 120));
    }

    [Fact]
    public void Unknown_wnid_in_the_annotations_names_the_line_offset()
    {
        string first = $"val_0.JPEG\t{Wnids[2]}\t0\t0\t63\t63\n";
        WriteLayout(first + "val_1.JPEG\tn99999999\t0\t0\t1\t1\n");

        var e = Assert.Throws<DataFormatException>(() => TinyImageNet.Load(_dir.Path, DatasetSplit.Test, SkiaJpegDecoder.Instance));

        MnistReaderTests.AssertNames(e, _dir.File("val", "val_annotations.txt"), first.Length);
        Assert.Contains("n99999999", e.Message);
    }

    [Fact]
    public void Annotation_line_without_a_tab_names_the_line_offset()
    {
        string first = $"val_0.JPEG\t{Wnids[2]}\t0\t0\t63\t63\r\n";
        WriteLayout(first + "val_1.JPEG n01629819\n");

        var e = Assert.Throws<DataFormatException>(() => TinyImageNet.Load(_dir.Path, DatasetSplit.Test, SkiaJpegDecoder.Instance));

        MnistReaderTests.AssertNames(e, _dir.File("val", "val_annotations.txt"), first.Length);
    }

    [Fact]
    public void Image_of_the_wrong_size_is_an_error_naming_the_file()
    {
        WriteLayout();
        string path = _dir.Write($"train/{Wnids[1]}/images/{Wnids[1]}_1.JPEG", Jpeg(32, 48, Colours[1]));

        var e = Assert.Throws<DataFormatException>(() => TinyImageNet.Load(_dir.Path, DatasetSplit.Train, SkiaJpegDecoder.Instance));

        MnistReaderTests.AssertNames(e, path, 0);
        Assert.Contains("32x48", e.Message);
    }

    [Fact]
    public void Truncated_jpeg_is_an_error_naming_the_file_and_where_it_ends()
    {
        WriteLayout();
        byte[] jpeg = NoiseJpeg();
        string path = _dir.Write("val/images/val_1.JPEG", jpeg[..(jpeg.Length / 2)]);

        var e = Assert.Throws<DataFormatException>(() => TinyImageNet.Load(_dir.Path, DatasetSplit.Test, SkiaJpegDecoder.Instance));

        MnistReaderTests.AssertNames(e, path, jpeg.Length / 2);
    }

    [Fact]
    public void Garbage_instead_of_a_jpeg_is_an_error_naming_the_file()
    {
        WriteLayout();
        string path = _dir.Write($"train/{Wnids[2]}/images/{Wnids[2]}_0.JPEG", Encoding.ASCII.GetBytes("not an image"));

        var e = Assert.Throws<DataFormatException>(() => TinyImageNet.Load(_dir.Path, DatasetSplit.Train, SkiaJpegDecoder.Instance));

        MnistReaderTests.AssertNames(e, path, 0);
    }

    [Fact]
    public void Duplicate_wnid_names_its_line()
    {
        WriteLayout();
        string text = string.Join("\n", Wnids) + "\n" + Wnids[0] + "\n";
        _dir.Write("wnids.txt", Encoding.ASCII.GetBytes(text));

        var e = Assert.Throws<DataFormatException>(() => TinyImageNet.Load(_dir.Path, DatasetSplit.Train, SkiaJpegDecoder.Instance));

        MnistReaderTests.AssertNames(e, _dir.File("wnids.txt"), 3 * 10);
    }
}
