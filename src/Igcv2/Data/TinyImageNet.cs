using System.Text;

namespace Igcv2.Data;

/// <summary>
/// Tiny ImageNet (200 classes of 64x64 RGB JPEGs) in its published folder layout:
/// <c>wnids.txt</c> (one WordNet id per line: the class order), <c>train/&lt;wnid&gt;/images/*.JPEG</c>, and
/// <c>val/images/*.JPEG</c> labelled by <c>val/val_annotations.txt</c> (tab-separated: file, wnid, bbox).
/// The test folder has no labels and is not read.
/// </summary>
public static class TinyImageNet
{
    public const int Size = 64;
    public const int Channels = 3;

    /// <summary>
    /// Reads <paramref name="split"/> (Test = val) under <paramref name="root"/> (the extracted
    /// <c>tiny-imagenet-200</c>). Training images are ordered by class (wnids.txt order), then by file name;
    /// validation images in annotation order. <paramref name="decoder"/> decodes the JPEGs, in parallel
    /// (<c>SkiaJpegDecoder.Instance</c> from the Igcv2.Data.Jpeg package; grayscale ones become RGB).
    /// </summary>
    public static Dataset Load(string root, DatasetSplit split, IImageDecoder decoder)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(decoder);
        string[] wnids = ReadWnids(root);
        var classOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < wnids.Length; i++)
        {
            classOf[wnids[i]] = i;
        }

        var files = new List<(string Path, int Label)>();
        if (split == DatasetSplit.Train)
        {
            for (int label = 0; label < wnids.Length; label++)
            {
                string folder = Path.Combine(root, "train", wnids[label], "images");
                if (!Directory.Exists(folder))
                {
                    throw new DirectoryNotFoundException($"{folder} not found: wnids.txt lists {wnids[label]} but it has no training images");
                }

                files.AddRange(Directory.EnumerateFiles(folder)
                    .Where(IsJpeg)
                    .Order(StringComparer.Ordinal)
                    .Select(f => (f, label)));
            }
        }
        else
        {
            foreach (var (file, wnid, offset, annotations) in ReadValAnnotations(root))
            {
                if (!classOf.TryGetValue(wnid, out int label))
                {
                    throw new DataFormatException(annotations, offset, $"wnid '{wnid}' of {file} is not in wnids.txt");
                }

                files.Add((Path.Combine(root, "val", "images", file), label));
            }
        }

        var pixels = new byte[(long)files.Count * Channels * Size * Size];
        var errors = new Exception?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try
            {
                decoder.Decode(files[i].Path, File.ReadAllBytes(files[i].Path), pixels.AsSpan(i * Channels * Size * Size, Channels * Size * Size), Channels, Size, Size);
            }
            catch (Exception e) when (e is DataFormatException or IOException)
            {
                errors[i] = e;
            }
        });

        // The first failing file in data-set order, whatever order the threads ran in.
        if (Array.Find(errors, e => e is not null) is { } error)
        {
            throw error;
        }

        return new Dataset(
            $"tiny-imagenet-{(split == DatasetSplit.Train ? "train" : "val")}",
            pixels, files.Select(f => f.Label).ToArray(), Channels, Size, Size, wnids.Length);
    }

    /// <summary>The class order: the lines of wnids.txt.</summary>
    public static string[] ReadWnids(string root)
    {
        string path = Path.Combine(root, "wnids.txt");
        var wnids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (line, offset) in Lines(path))
        {
            string wnid = line.Trim();
            if (wnid.Length == 0)
            {
                continue;
            }

            if (!seen.Add(wnid))
            {
                throw new DataFormatException(path, offset, $"wnid '{wnid}' is listed twice");
            }

            wnids.Add(wnid);
        }

        if (wnids.Count == 0)
        {
            throw new DataFormatException(path, 0, "no wnids: the file is empty");
        }

        return [.. wnids];
    }

    private static IEnumerable<(string File, string Wnid, long Offset, string AnnotationsPath)> ReadValAnnotations(string root)
    {
        string path = Path.Combine(root, "val", "val_annotations.txt");
        foreach (var (line, offset) in Lines(path))
        {
            if (line.Trim().Length == 0)
            {
                continue;
            }

            string[] fields = line.Split('\t');
            if (fields.Length < 2 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new DataFormatException(path, offset, $"line '{line}' is not 'file<TAB>wnid<TAB>bbox'");
            }

            yield return (fields[0], fields[1].Trim(), offset, path);
        }
    }

    /// <summary>The lines of an ASCII/UTF-8 text file, each with the byte offset where it starts.</summary>
    private static IEnumerable<(string Line, long Offset)> Lines(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int start = 0;
        while (start < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            int next = end < 0 ? bytes.Length : end + 1;
            int length = (end < 0 ? bytes.Length : end) - start;
            if (length > 0 && bytes[start + length - 1] == '\r')
            {
                length--;
            }

            yield return (Encoding.UTF8.GetString(bytes, start, length), start);
            start = next;
        }
    }

    private static bool IsJpeg(string path)
    {
        string extension = Path.GetExtension(path);
        return extension.Equals(".jpeg", StringComparison.OrdinalIgnoreCase) || extension.Equals(".jpg", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// Decodes one image file into CHW bytes. The core reads data-set layouts and leaves the codec to an add-on
/// (Igcv2.Data.Jpeg's <c>SkiaJpegDecoder</c>), so a consumer that never reads JPEGs carries no image library.
/// </summary>
public interface IImageDecoder
{
    /// <summary>
    /// Decodes <paramref name="bytes"/> (the file at <paramref name="path"/>, named in errors) into
    /// <paramref name="destination"/>: <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/>
    /// bytes, CHW. An image of another size, or one that does not decode, is a <see cref="DataFormatException"/>.
    /// </summary>
    void Decode(string path, ReadOnlySpan<byte> bytes, Span<byte> destination, int channels, int height, int width);
}
