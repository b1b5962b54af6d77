namespace Igcv2.Data;

/// <summary>
/// The MNIST IDX format (LeCun et al.): big-endian 32-bit magic (0x00000803 images, 0x00000801 labels, i.e.
/// unsigned bytes with 3 or 1 dimensions), the dimensions, then the bytes. Files may be gzipped.
/// </summary>
public static class Mnist
{
    public const uint ImagesMagic = 0x00000803;
    public const uint LabelsMagic = 0x00000801;
    public const int Classes = 10;

    /// <summary>
    /// Reads <paramref name="imagesPath"/> and <paramref name="labelsPath"/> (gzipped or not) as one data set of
    /// 1 x rows x cols images.
    /// </summary>
    public static Dataset Load(string imagesPath, string labelsPath, string? name = null, int classes = Classes)
    {
        ArgumentNullException.ThrowIfNull(imagesPath);
        ArgumentNullException.ThrowIfNull(labelsPath);
        return Parse(DataFile.ReadAll(imagesPath), imagesPath, DataFile.ReadAll(labelsPath), labelsPath,
            name ?? Path.GetFileName(imagesPath), classes);
    }

    /// <summary>
    /// Reads the published file set in <paramref name="directory"/>: train-images-idx3-ubyte /
    /// train-labels-idx1-ubyte or t10k-images-idx3-ubyte / t10k-labels-idx1-ubyte, each with or without .gz.
    /// </summary>
    public static Dataset LoadDirectory(string directory, DatasetSplit split)
    {
        string prefix = split == DatasetSplit.Train ? "train" : "t10k";
        return Load(
            FindFile(directory, $"{prefix}-images-idx3-ubyte"),
            FindFile(directory, $"{prefix}-labels-idx1-ubyte"),
            $"mnist-{split.ToString().ToLowerInvariant()}");
    }

    /// <summary>Images of an IDX file (already gunzipped): pixels, count, rows, cols.</summary>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ParseImages(ReadOnlySpan<byte> bytes, string fileName)
    {
        uint magic = DataFile.ReadUInt32BigEndian(bytes, 0, fileName, "magic");
        if (magic != ImagesMagic)
        {
            throw new DataFormatException(fileName, 0, $"magic 0x{magic:X8} is not the IDX image magic 0x{ImagesMagic:X8} (unsigned bytes, 3 dimensions)");
        }

        int count = Dimension(bytes, 4, fileName, "image count", allowZero: true);
        int rows = Dimension(bytes, 8, fileName, "rows", allowZero: false);
        int columns = Dimension(bytes, 12, fileName, "columns", allowZero: false);
        long expected = 16 + (long)count * rows * columns;
        CheckLength(bytes, expected, fileName, $"{count} images of {rows}x{columns}");
        return (bytes[16..(int)expected].ToArray(), count, rows, columns);
    }

    /// <summary>Labels of an IDX file (already gunzipped), each checked to be in [0, classes).</summary>
    public static int[] ParseLabels(ReadOnlySpan<byte> bytes, string fileName, int classes = Classes)
    {
        uint magic = DataFile.ReadUInt32BigEndian(bytes, 0, fileName, "magic");
        if (magic != LabelsMagic)
        {
            throw new DataFormatException(fileName, 0, $"magic 0x{magic:X8} is not the IDX label magic 0x{LabelsMagic:X8} (unsigned bytes, 1 dimension)");
        }

        int count = Dimension(bytes, 4, fileName, "label count", allowZero: true);
        CheckLength(bytes, 8L + count, fileName, $"{count} labels");
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = bytes[8 + i];
            if (labels[i] >= classes)
            {
                throw new DataFormatException(fileName, 8 + i, $"label {labels[i]} of item {i} is outside [0, {classes})");
            }
        }

        return labels;
    }

    internal static Dataset Parse(byte[] imageBytes, string imagesName, byte[] labelBytes, string labelsName, string name, int classes)
    {
        var (pixels, count, rows, columns) = ParseImages(imageBytes, imagesName);
        int[] labels = ParseLabels(labelBytes, labelsName, classes);
        if (labels.Length != count)
        {
            throw new DataFormatException(labelsName, 4, $"{labels.Length} labels but {imagesName} holds {count} images");
        }

        return new Dataset(name, pixels, labels, 1, rows, columns, classes);
    }

    private static int Dimension(ReadOnlySpan<byte> bytes, int offset, string fileName, string what, bool allowZero)
    {
        uint value = DataFile.ReadUInt32BigEndian(bytes, offset, fileName, what);
        if (value > int.MaxValue || (!allowZero && value == 0))
        {
            throw new DataFormatException(fileName, offset, $"{what} {value} is not a usable dimension");
        }

        return (int)value;
    }

    private static void CheckLength(ReadOnlySpan<byte> bytes, long expected, string fileName, string what)
    {
        if (bytes.Length < expected)
        {
            throw new DataFormatException(fileName, bytes.Length, $"truncated: the header promises {what} ({expected} bytes) but the data ends here");
        }

        if (bytes.Length > expected)
        {
            throw new DataFormatException(fileName, expected, $"{bytes.Length - expected} bytes follow the {what} the header promises (wrong dimensions?)");
        }
    }

    private static string FindFile(string directory, string baseName)
    {
        foreach (string candidate in new[] { baseName, baseName + ".gz", baseName.Replace("-idx", ".idx", StringComparison.Ordinal) })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"{Path.Combine(directory, baseName)}[.gz] not found", Path.Combine(directory, baseName));
    }
}
