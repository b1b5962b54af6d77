namespace Igcv2.Data;

/// <summary>Which CIFAR-100 label to read: the 100 fine classes (default) or the 20 coarse superclasses.</summary>
public enum CifarLabels
{
    Fine,
    Coarse,
}

/// <summary>
/// The CIFAR binary formats (Krizhevsky 2009): fixed-size records, label byte(s) then 3072 pixel bytes, the
/// 32x32 red plane, then green, then blue (already CHW).
/// </summary>
public static class Cifar
{
    public const int Size = 32;
    public const int Channels = 3;
    public const int PixelBytes = Channels * Size * Size;

    /// <summary>CIFAR-10 record: 1 label byte + 3072 pixel bytes.</summary>
    public const int Cifar10RecordBytes = 1 + PixelBytes;

    /// <summary>CIFAR-100 record: coarse label byte + fine label byte + 3072 pixel bytes.</summary>
    public const int Cifar100RecordBytes = 2 + PixelBytes;

    /// <summary>
    /// CIFAR-10 from <paramref name="directory"/> (the extracted <c>cifar-10-batches-bin</c>, or its parent):
    /// data_batch_1.bin ... data_batch_5.bin for training, test_batch.bin for testing.
    /// </summary>
    public static Dataset LoadCifar10(string directory, DatasetSplit split)
    {
        directory = Resolve(directory, "cifar-10-batches-bin", "test_batch.bin");
        string[] files = split == DatasetSplit.Train
            ? Enumerable.Range(1, 5).Select(i => Path.Combine(directory, $"data_batch_{i}.bin")).ToArray()
            : [Path.Combine(directory, "test_batch.bin")];
        return ReadCifar10(files, $"cifar10-{split.ToString().ToLowerInvariant()}");
    }

    /// <summary>CIFAR-10 batch files read in order into one data set.</summary>
    public static Dataset ReadCifar10(IReadOnlyList<string> files, string? name = null) =>
        Read(files, Cifar10RecordBytes, labelOffset: 0, classes: 10, name ?? "cifar10");

    /// <summary>
    /// CIFAR-100 from <paramref name="directory"/> (the extracted <c>cifar-100-binary</c>, or its parent):
    /// train.bin or test.bin; fine labels (100 classes) unless <paramref name="labels"/> asks for coarse (20).
    /// </summary>
    public static Dataset LoadCifar100(string directory, DatasetSplit split, CifarLabels labels = CifarLabels.Fine)
    {
        directory = Resolve(directory, "cifar-100-binary", "test.bin");
        string file = Path.Combine(directory, split == DatasetSplit.Train ? "train.bin" : "test.bin");
        return ReadCifar100([file], labels, $"cifar100-{split.ToString().ToLowerInvariant()}");
    }

    /// <summary>CIFAR-100 files read in order into one data set.</summary>
    public static Dataset ReadCifar100(IReadOnlyList<string> files, CifarLabels labels = CifarLabels.Fine, string? name = null)
    {
        // Both labels are validated: a corrupt coarse byte means a corrupt record even when fine is used.
        return Read(files, Cifar100RecordBytes, labelOffset: labels == CifarLabels.Coarse ? 0 : 1,
            classes: labels == CifarLabels.Coarse ? 20 : 100, name ?? "cifar100");
    }

    private static Dataset Read(IReadOnlyList<string> files, int recordBytes, int labelOffset, int classes, string name)
    {
        ArgumentNullException.ThrowIfNull(files);
        int labelBytes = recordBytes - PixelBytes;
        var contents = files.Select(f => (Path: f, Bytes: DataFile.ReadAll(f))).ToArray();
        foreach (var (path, bytes) in contents)
        {
            if (bytes.Length == 0)
            {
                throw new DataFormatException(path, 0, "empty file: no CIFAR records");
            }

            if (bytes.Length % recordBytes != 0)
            {
                long lastRecord = bytes.Length / recordBytes * (long)recordBytes;
                throw new DataFormatException(path, lastRecord,
                    $"truncated record: {bytes.Length - lastRecord} of {recordBytes} bytes ({bytes.Length} is not a whole number of {recordBytes}-byte records)");
            }
        }

        int count = contents.Sum(c => c.Bytes.Length / recordBytes);
        var pixels = new byte[(long)count * PixelBytes];
        var labels = new int[count];
        int n = 0;
        foreach (var (path, bytes) in contents)
        {
            for (int offset = 0; offset < bytes.Length; offset += recordBytes, n++)
            {
                for (int l = 0; l < labelBytes; l++)
                {
                    // CIFAR-100: byte 0 coarse (< 20), byte 1 fine (< 100); CIFAR-10: byte 0 (< 10).
                    int limit = labelBytes == 1 ? 10 : l == 0 ? 20 : 100;
                    if (bytes[offset + l] >= limit)
                    {
                        string which = labelBytes == 1 ? "label" : l == 0 ? "coarse label" : "fine label";
                        throw new DataFormatException(path, offset + l,
                            $"{which} {bytes[offset + l]} of record {offset / recordBytes} is outside [0, {limit})");
                    }
                }

                labels[n] = bytes[offset + labelOffset];
                bytes.AsSpan(offset + labelBytes, PixelBytes).CopyTo(pixels.AsSpan(n * PixelBytes, PixelBytes));
            }
        }

        return new Dataset(name, pixels, labels, Channels, Size, Size, classes);
    }

    private static string Resolve(string directory, string extractedFolder, string marker)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string nested = Path.Combine(directory, extractedFolder);
        return !File.Exists(Path.Combine(directory, marker)) && Directory.Exists(nested) ? nested : directory;
    }
}
