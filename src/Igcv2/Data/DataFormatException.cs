namespace Igcv2.Data;

/// <summary>
/// A data file is truncated or malformed. The message and the properties name the file and the byte offset
/// where reading went wrong, so nothing trains on garbage and the culprit can be found with a hex dump.
/// For gzipped files the offset counts decompressed bytes.
/// </summary>
public sealed class DataFormatException : IOException
{
    public DataFormatException(string filePath, long offset, string problem, Exception? inner = null)
        : base($"{filePath}: at byte {offset}: {problem}", inner)
    {
        FilePath = filePath;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>The file that is wrong.</summary>
    public string FilePath { get; }

    /// <summary>Byte offset in the file (decompressed, for gzip) where the problem was found.</summary>
    public long Offset { get; }

    /// <summary>What is wrong, without the file and offset.</summary>
    public string Problem { get; }
}
