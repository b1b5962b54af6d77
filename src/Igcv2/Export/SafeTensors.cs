using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Igcv2;

/// <summary>
/// The safetensors format (Hugging Face), float32 only: an 8-byte little-endian header length N, N bytes
/// of UTF-8 JSON <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {"key": "value"}}</c> (padded with spaces to a multiple of 8), then the tensors' raw
/// little-endian bytes, offsets relative to the end of the header. Files are written atomically: to a
/// temporary file in the same folder, then moved over the target, so a crash mid-save keeps the old file.
/// </summary>
public static class SafeTensors
{
    public const string MetadataKey = "__metadata__";

    /// <summary>A header larger than this is taken for a corrupt length, not read (the reference reader caps it at 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes <paramref name="tensors"/> (row-major float32, in name order) and <paramref name="metadata"/> to <paramref name="path"/>.</summary>
    public static void Save(
        string path,
        IReadOnlyDictionary<string, (int[] shape, float[] data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        foreach (var name in names)
        {
            if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor.", nameof(tensors));
            var (shape, data) = tensors[name];
            var count = shape.Aggregate(1L, (a, d) => d < 0 ? throw new ArgumentException($"{name}: negative dimension in [{string.Join(", ", shape)}].", nameof(tensors)) : checked(a * d));
            if (count != data.Length)
            {
                throw new ArgumentException($"{name}: shape [{string.Join(", ", shape)}] holds {count} values but {data.Length} were given.", nameof(tensors));
            }
        }

        var header = WriteHeader(names, tensors, metadata);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (var name in names) WriteFloats(stream, tensors[name].data);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Reads a float32 safetensors file; throws <see cref="InvalidDataException"/> saying what is wrong when it
    /// is truncated, its header is malformed, or a tensor is not F32.
    /// </summary>
    public static SafeTensorsFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new InvalidDataException($"{path}: {fileLength} bytes is too short for a safetensors file (the 8-byte header length alone is missing); the file is truncated.");
        }
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
        {
            throw new InvalidDataException($"{path}: the header length field says {headerLength} bytes, more than the {MaxHeaderBytes} allowed: not a safetensors file, or a corrupt one.");
        }
        if (8 + (long)headerLength > fileLength)
        {
            throw new InvalidDataException($"{path}: the header needs {headerLength} bytes but the file has only {fileLength - 8} after the length field; the file is truncated.");
        }
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var dataLength = fileLength - 8 - (long)headerLength;

        var entries = ParseHeader(path, header, out var metadata);
        long covered = 0;
        foreach (var entry in entries) covered = Math.Max(covered, entry.End);
        if (covered > dataLength)
        {
            throw new InvalidDataException($"{path}: the header promises {covered} bytes of tensor data but the file holds {dataLength}; the file is truncated.");
        }
        if (covered < dataLength)
        {
            throw new InvalidDataException($"{path}: {dataLength - covered} bytes after the last tensor belong to no tensor; the file is corrupt.");
        }
        CheckNoOverlap(path, entries);

        var dataStart = 8 + (long)headerLength;
        var tensors = new Dictionary<string, (int[] shape, float[] data)>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var values = new float[(entry.End - entry.Begin) / sizeof(float)];
            stream.Position = dataStart + entry.Begin;
            stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            if (!BitConverter.IsLittleEndian)
            {
                var ints = MemoryMarshal.Cast<float, int>(values.AsSpan());
                BinaryPrimitives.ReverseEndianness(ints, ints);
            }
            tensors.Add(entry.Name, (entry.Shape, values));
        }
        return new SafeTensorsFile(path, tensors, metadata);
    }

    private static byte[] WriteHeader(string[] names, IReadOnlyDictionary<string, (int[] shape, float[] data)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var name in names)
            {
                var (shape, data) = tensors[name];
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += (long)data.Length * sizeof(float);
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // The reference writer pads the header with spaces so that the data starts 8-byte aligned.
        var padding = (int)((8 - buffer.Length % 8) % 8);
        for (var i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteFloats(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        var bytes = new byte[data.Length * sizeof(float)];
        for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), data[i]);
        stream.Write(bytes);
    }

    private sealed record Entry(string Name, int[] Shape, long Begin, long End);

    private static List<Entry> ParseHeader(string path, byte[] header, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the header is not valid JSON ({e.Message}); not a safetensors file, or a corrupt one.", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: the header is a JSON {document.RootElement.ValueKind}, not an object.");
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Bad(path, $"'{MetadataKey}' is not an object");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String) throw Bad(path, $"metadata '{item.Name}' is not a string");
                        metadata[item.Name] = item.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(path, property));
            }
        }
        return entries;
    }

    private static Entry ParseEntry(string path, JsonProperty property)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw Bad(path, $"tensor '{name}' is not an object");
        if (!value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String) throw Bad(path, $"tensor '{name}' has no dtype");
        if (dtype.GetString() != "F32")
        {
            throw new InvalidDataException($"{path}: tensor '{name}' has dtype {dtype.GetString()}; only F32 (float32) is supported.");
        }
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array) throw Bad(path, $"tensor '{name}' has no shape");
        var shape = new int[shapeElement.GetArrayLength()];
        var i = 0;
        long count = 1;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var dim) || dim < 0) throw Bad(path, $"tensor '{name}' has a bad dimension {d}");
            shape[i++] = dim;
            count = checked(count * dim);
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw Bad(path, $"tensor '{name}' has no [begin, end] data_offsets");
        }
        if (!offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
        {
            throw Bad(path, $"tensor '{name}' has bad data_offsets {offsets}");
        }
        if (end - begin != count * sizeof(float))
        {
            throw Bad(path, $"tensor '{name}' of shape [{string.Join(", ", shape)}] needs {count * sizeof(float)} bytes but its data_offsets span {end - begin}");
        }
        return new Entry(name, shape, begin, end);
    }

    private static void CheckNoOverlap(string path, List<Entry> entries)
    {
        var sorted = entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
        for (var i = 1; i < sorted.Count; i++)
        {
            if (sorted[i].Begin < sorted[i - 1].End) throw Bad(path, $"tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap");
        }
    }

    private static InvalidDataException Bad(string path, string what) =>
        new($"{path}: bad safetensors header: {what}.");
}

/// <summary>What <see cref="SafeTensors.Load"/> read: float32 tensors by name and the string metadata.</summary>
public sealed class SafeTensorsFile(
    string path,
    IReadOnlyDictionary<string, (int[] shape, float[] data)> tensors,
    IReadOnlyDictionary<string, string> metadata)
{
    public string Path { get; } = path;

    public IReadOnlyDictionary<string, (int[] shape, float[] data)> Tensors { get; } = tensors;

    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    /// <summary>A metadata value, or an <see cref="InvalidDataException"/> naming the missing key.</summary>
    public string RequireMetadata(string key) =>
        Metadata.TryGetValue(key, out var value)
            ? value
            : throw new InvalidDataException($"{Path}: metadata '{key}' is missing.");
}
