using System.IO.Compression;

namespace Igcv2.Data;

/// <summary>Whole-file reads with gzip detected by its magic (1f 8b), and errors that name file and offset.</summary>
internal static class DataFile
{
    public static byte[] ReadAll(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadAll(stream, path);
    }

    /// <summary>Reads <paramref name="stream"/> to the end, gunzipping it when it starts with 1f 8b.</summary>
    public static byte[] ReadAll(Stream stream, string name)
    {
        var raw = new MemoryStream();
        stream.CopyTo(raw);
        byte[] bytes = raw.ToArray();
        return IsGzip(bytes) ? Gunzip(bytes, name) : bytes;
    }

    public static bool IsGzip(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;

    private static byte[] Gunzip(byte[] compressed, string name)
    {
        var output = new MemoryStream(compressed.Length * 4);
        using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        var buffer = new byte[81920];
        try
        {
            int read;
            while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
            {
                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(name, output.Length, "corrupt gzip stream (offset counts decompressed bytes): " + e.Message, e);
        }

        return output.ToArray();
    }

    public static uint ReadUInt32BigEndian(ReadOnlySpan<byte> bytes, int offset, string name, string what)
    {
        if (bytes.Length < offset + 4)
        {
            throw new DataFormatException(name, bytes.Length, $"file ends inside the header, {what} expected at byte {offset}");
        }

        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[offset..]);
    }
}
