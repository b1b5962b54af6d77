using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Igcv2;

/// <summary>
/// The safetensors format (Hugging Face), float32 only: an 8-byte little-endian header length N, N bytes
/// of UTF-8 JSON <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {"key": "value"}}</c> (padded with spaces to a multiple of 8), then the tensors' raw
/// little-endian bytes, offsets relative to the end of the header.
/// <para>
/// Integrity: every file written here carries, in <c>__metadata__</c>, <c>checksum_algorithm</c> =
/// <c>xxh3_64</c>, one <c>checksum.&lt;tensor&gt;</c> per tensor (XxHash3-64 of the tensor's stored
/// little-endian bytes, 16 lowercase hex digits, as Python's <c>xxhash.xxh3_64_hexdigest</c> prints it) and
/// <c>checksum.__metadata__</c> (of every other metadata entry, see <see cref="MetadataChecksum"/>).
/// <see cref="Load"/> verifies them and refuses a mismatch naming the tensor and its bytes; a file without
/// checksums (older versions, other tools) loads with <see cref="SafeTensorsFile.ChecksumsVerified"/> false.
/// </para>
/// <para>
/// Durability: a file is written to a temporary file in the same folder, flushed to disk, renamed over the
/// target, and then the folder itself is flushed (Linux, macOS), so a crash or a power loss keeps either the
/// old file or the new one whole.
/// </para>
/// </summary>
public static partial class SafeTensors
{
    public const string MetadataKey = "__metadata__";

    /// <summary>Metadata key naming the checksum algorithm; its presence means every tensor has a checksum.</summary>
    public const string ChecksumAlgorithmKey = "checksum_algorithm";

    /// <summary>The only checksum algorithm written and read: XxHash3, 64 bits, seed 0.</summary>
    public const string ChecksumAlgorithm = "xxh3_64";

    /// <summary>Prefix of the per-tensor checksum keys: <c>checksum.&lt;tensor name&gt;</c>.</summary>
    public const string ChecksumPrefix = "checksum.";

    /// <summary>The key of the checksum over the other metadata entries.</summary>
    public const string MetadataChecksumKey = ChecksumPrefix + MetadataKey;

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

        if (metadata is not null)
        {
            foreach (var key in metadata.Keys)
            {
                if (IsChecksumKey(key)) throw new ArgumentException($"Metadata key '{key}' is reserved for the checksums the writer adds.", nameof(metadata));
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
        // The rename lives in the folder's entries: until they reach the disk, a power loss may undo it.
        FlushFolder(folder);
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
        var checksums = ReadChecksums(path, metadata, entries);
        var tensors = new Dictionary<string, (int[] shape, float[] data)>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var values = new float[(entry.End - entry.Begin) / sizeof(float)];
            stream.Position = dataStart + entry.Begin;
            var bytes = MemoryMarshal.AsBytes(values.AsSpan());
            stream.ReadExactly(bytes);
            if (checksums is not null)
            {
                var actual = Hex(XxHash3.HashToUInt64(bytes));
                if (actual != checksums[entry.Name])
                {
                    throw new InvalidDataException(
                        $"{path}: tensor '{entry.Name}' (file bytes {dataStart + entry.Begin}-{dataStart + entry.End}) fails its checksum " +
                        $"({ChecksumAlgorithm} {actual}, the header says {checksums[entry.Name]}): the file is corrupt. Nothing was loaded from it and it is left as it is.");
                }
            }
            if (!BitConverter.IsLittleEndian)
            {
                var ints = MemoryMarshal.Cast<float, int>(values.AsSpan());
                BinaryPrimitives.ReverseEndianness(ints, ints);
            }
            tensors.Add(entry.Name, (entry.Shape, values));
        }
        return new SafeTensorsFile(path, tensors, metadata, checksums is not null);
    }

    /// <summary>
    /// XxHash3-64 (hex) of the metadata entries other than the checksums, in ordinal key order, each as the
    /// UTF-8 bytes of key, a zero byte, value, a zero byte.
    /// </summary>
    public static string MetadataChecksum(IEnumerable<KeyValuePair<string, string>> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var hash = new XxHash3();
        byte[] zero = [0];
        foreach (var (key, value) in metadata.Where(p => !IsChecksumKey(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            hash.Append(Encoding.UTF8.GetBytes(key));
            hash.Append(zero);
            hash.Append(Encoding.UTF8.GetBytes(value));
            hash.Append(zero);
        }
        return Hex(hash.GetCurrentHashAsUInt64());
    }

    private static bool IsChecksumKey(string key) => key == ChecksumAlgorithmKey || key.StartsWith(ChecksumPrefix, StringComparison.Ordinal);

    private static string Hex(ulong hash) => hash.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// The expected checksum of every tensor by name, or null when the file carries none. Checks the metadata
    /// checksum and that the checksums and the tensors name each other exactly.
    /// </summary>
    private static Dictionary<string, string>? ReadChecksums(string path, Dictionary<string, string> metadata, List<Entry> entries)
    {
        if (!metadata.TryGetValue(ChecksumAlgorithmKey, out var algorithm))
        {
            var stray = metadata.Keys.FirstOrDefault(k => k.StartsWith(ChecksumPrefix, StringComparison.Ordinal));
            if (stray is not null) throw Corrupt(path, $"metadata '{stray}' is a checksum but '{ChecksumAlgorithmKey}' is missing");
            return null;
        }
        if (algorithm != ChecksumAlgorithm)
        {
            throw new InvalidDataException($"{path}: the checksums are {algorithm}; this library reads {ChecksumAlgorithm}.");
        }
        if (!metadata.TryGetValue(MetadataChecksumKey, out var expectedMetadata)) throw Corrupt(path, $"metadata '{MetadataChecksumKey}' is missing");
        var actualMetadata = MetadataChecksum(metadata);
        if (actualMetadata != expectedMetadata)
        {
            throw Corrupt(path, $"the metadata fails its checksum ({ChecksumAlgorithm} {actualMetadata}, the header says {expectedMetadata})");
        }
        var checksums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!metadata.TryGetValue(ChecksumPrefix + entry.Name, out var checksum)) throw Corrupt(path, $"tensor '{entry.Name}' has no checksum");
            checksums.Add(entry.Name, checksum);
        }
        var orphan = metadata.Keys.FirstOrDefault(k =>
            k.StartsWith(ChecksumPrefix, StringComparison.Ordinal) && k != MetadataChecksumKey && !checksums.ContainsKey(k[ChecksumPrefix.Length..]));
        if (orphan is not null) throw Corrupt(path, $"metadata '{orphan}' is the checksum of a tensor the file does not hold");
        return checksums;
    }

    private static InvalidDataException Corrupt(string path, string what) =>
        new($"{path}: {what}: the file is corrupt. Nothing was loaded from it and it is left as it is.");

    /// <summary>fsync on the folder, so that a rename into it survives a power loss (POSIX; Windows has no equivalent for folders).</summary>
    private static void FlushFolder(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD()) return;
        var descriptor = Posix.Open(folder, 0 /* O_RDONLY */);
        if (descriptor < 0)
        {
            throw new IOException($"{folder}: cannot open the folder to flush it to disk (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Posix.Fsync(descriptor) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                // EINVAL/ENOTSUP: the file system cannot flush folders (some network and FUSE ones); nothing more can be done.
                if (errno != Posix.EINVAL && errno != Posix.ENOTSUP && errno != Posix.EOPNOTSUPP)
                {
                    throw new IOException($"{folder}: flushing the folder to disk failed (errno {errno}); the file may not survive a power loss.");
                }
            }
        }
        finally
        {
            _ = Posix.Close(descriptor);
        }
    }

    private static partial class Posix
    {
        public const int EINVAL = 22;
        public static readonly int ENOTSUP = OperatingSystem.IsLinux() ? 95 : 45;
        public static readonly int EOPNOTSUPP = OperatingSystem.IsLinux() ? 95 : 102;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int descriptor);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int descriptor);
    }

    private static byte[] WriteHeader(string[] names, IReadOnlyDictionary<string, (int[] shape, float[] data)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        // One read of each tensor here (the data is read once more while writing).
        var shapes = new List<(string Name, int[] Shape, long Bytes)>(names.Length);
        var all = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [ChecksumAlgorithmKey] = ChecksumAlgorithm,
        };
        foreach (var name in names)
        {
            var (shape, data) = tensors[name];
            shapes.Add((name, shape, (long)data.Length * sizeof(float)));
            all[ChecksumPrefix + name] = Hex(XxHash3.HashToUInt64(LittleEndianBytes(data)));
        }
        all[MetadataChecksumKey] = MetadataChecksum(all);

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject(MetadataKey);
            foreach (var (key, value) in all.OrderBy(p => p.Key, StringComparer.Ordinal)) json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            foreach (var (name, shape, bytes) in shapes)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += bytes;
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

    private static void WriteFloats(Stream stream, float[] data) => stream.Write(LittleEndianBytes(data));

    /// <summary>The bytes of <paramref name="data"/> as the file stores them (little-endian float32).</summary>
    private static ReadOnlySpan<byte> LittleEndianBytes(float[] data)
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.AsBytes(data.AsSpan());
        var bytes = new byte[data.Length * sizeof(float)];
        for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), data[i]);
        return bytes;
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
    IReadOnlyDictionary<string, string> metadata,
    bool checksumsVerified = false)
{
    public string Path { get; } = path;

    /// <summary>
    /// True when the file carried checksums and every tensor and the metadata matched them; false for a file
    /// without checksums (written before they were added, or by another tool), which loads unverified.
    /// </summary>
    public bool ChecksumsVerified { get; } = checksumsVerified;

    public IReadOnlyDictionary<string, (int[] shape, float[] data)> Tensors { get; } = tensors;

    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    /// <summary>A metadata value, or an <see cref="InvalidDataException"/> naming the missing key.</summary>
    public string RequireMetadata(string key) =>
        Metadata.TryGetValue(key, out var value)
            ? value
            : throw new InvalidDataException($"{Path}: metadata '{key}' is missing.");
}
