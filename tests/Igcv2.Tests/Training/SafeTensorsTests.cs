using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Text;

namespace Igcv2.Tests.Training;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("igcv2-safetensors-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Tensors_and_metadata_round_trip()
    {
        var path = Path.Combine(folder, "a.safetensors");
        var tensors = new Dictionary<string, (int[] shape, float[] data)>
        {
            ["b"] = ([2, 3], [1, 2, 3, 4, 5, float.NaN]),
            ["a.scalar"] = ([], [-0.5f]),
            ["empty"] = ([0, 4], []),
        };

        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "é \"quoted\"" });
        var file = SafeTensors.Load(path);

        Assert.Equal(["a.scalar", "b", "empty"], file.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, (shape, data)) in tensors)
        {
            Assert.Equal(shape, file.Tensors[name].shape);
            Assert.Equal(data, file.Tensors[name].data);
        }
        Assert.Equal("3", file.Metadata["epoch"]);
        Assert.Equal("é \"quoted\"", file.Metadata["note"]);
        Assert.Equal(0, (new FileInfo(path).Length - file.Tensors.Values.Sum(t => t.data.Length * 4L)) % 8);
    }

    [Fact]
    public void A_file_written_byte_by_byte_from_the_spec_loads()
    {
        // Two tensors, "w" [2, 2] and "b" [1], with the data of "b" first: offsets need not follow header order.
        var header = """{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[4,20]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        var bytes = new List<byte>();
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var length = (ulong)headerBytes.Length;
        for (var i = 0; i < 8; i++) bytes.Add((byte)(length >> (8 * i)));
        bytes.AddRange(headerBytes);
        foreach (var value in new[] { 9.5f, 1f, -2f, 0.25f, 1e-3f })
        {
            var bits = BitConverter.SingleToUInt32Bits(value);
            for (var i = 0; i < 4; i++) bytes.Add((byte)(bits >> (8 * i)));
        }
        var path = Path.Combine(folder, "spec.safetensors");
        File.WriteAllBytes(path, bytes.ToArray());

        var file = SafeTensors.Load(path);

        Assert.Equal([9.5f], file.Tensors["b"].data);
        Assert.Equal([1], file.Tensors["b"].shape);
        Assert.Equal([1f, -2f, 0.25f, 1e-3f], file.Tensors["w"].data);
        Assert.Equal([2, 2], file.Tensors["w"].shape);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void What_the_writer_writes_is_the_spec_layout()
    {
        var path = Path.Combine(folder, "layout.safetensors");
        SafeTensors.Save(path, new Dictionary<string, (int[] shape, float[] data)> { ["x"] = ([2], [1.5f, -1f]) });

        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength).TrimEnd(' ');

        // The checksums, computed here from the raw bytes as any xxhash library would.
        var data = bytes[(8 + headerLength)..];
        var tensorChecksum = XxHash3.HashToUInt64(data).ToString("x16");
        // No metadata but the checksums themselves, which the metadata checksum leaves out: it hashes nothing.
        var metadataChecksum = XxHash3.HashToUInt64([]).ToString("x16");
        Assert.Equal(
            $$$"""{"__metadata__":{"checksum.__metadata__":"{{{metadataChecksum}}}","checksum.x":"{{{tensorChecksum}}}","checksum_algorithm":"xxh3_64"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""",
            header);
        Assert.Equal(8 + headerLength + 8, bytes.Length);
        Assert.Equal(1.5f, BitConverter.ToSingle(bytes, 8 + headerLength));
        Assert.Equal(-1f, BitConverter.ToSingle(bytes, 8 + headerLength + 4));
    }

    [Fact]
    public void A_truncated_file_is_refused_as_truncated()
    {
        var path = Path.Combine(folder, "t.safetensors");
        SafeTensors.Save(path, new Dictionary<string, (int[] shape, float[] data)> { ["x"] = ([100], new float[100]) });
        var bytes = File.ReadAllBytes(path);

        foreach (var keep in new[] { bytes.Length - 1, bytes.Length - 200, 20, 5 })
        {
            File.WriteAllBytes(path, bytes[..keep]);
            var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
            Assert.Contains("truncated", error.Message);
        }
    }

    [Fact]
    public void A_malformed_header_is_refused()
    {
        var path = Path.Combine(folder, "bad.safetensors");
        WriteRaw(path, "{\"x\": {\"dtype\": \"F32\", ", 0);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("not valid JSON", error.Message);

        WriteRaw(path, """{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8);
        error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("needs 12 bytes", error.Message);
    }

    [Fact]
    public void Another_dtype_is_refused_by_name()
    {
        var path = Path.Combine(folder, "f16.safetensors");
        WriteRaw(path, """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains("'h' has dtype F16", error.Message);
        Assert.Contains("only F32", error.Message);
    }

    [Fact]
    public void A_save_that_fails_midway_keeps_the_previous_file_and_leaves_no_temporary()
    {
        var path = Path.Combine(folder, "keep.safetensors");
        SafeTensors.Save(path, new Dictionary<string, (int[] shape, float[] data)> { ["x"] = ([3], [1f, 2f, 3f]) });
        var before = File.ReadAllBytes(path);
        var failing = new FailingOnSecondRead(new Dictionary<string, (int[] shape, float[] data)>
        {
            ["a"] = ([1000], new float[1000]),
            ["b"] = ([1000], new float[1000]),
        }, "b");

        Assert.Throws<IOException>(() => SafeTensors.Save(path, failing));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public void Checksums_round_trip_and_are_verified()
    {
        var path = Path.Combine(folder, "sum.safetensors");
        SafeTensors.Save(path, new Dictionary<string, (int[] shape, float[] data)>
        {
            ["a"] = ([3], [1f, 2f, 3f]),
            ["b"] = ([2, 2], [-1f, 0.5f, float.NaN, 4f]),
            ["empty"] = ([0], []),
        }, new Dictionary<string, string> { ["epoch"] = "3" });

        var file = SafeTensors.Load(path);

        Assert.True(file.ChecksumsVerified);
        Assert.Equal(SafeTensors.ChecksumAlgorithm, file.Metadata[SafeTensors.ChecksumAlgorithmKey]);
        Assert.Equal(XxHash3.HashToUInt64(ToBytes([1f, 2f, 3f])).ToString("x16"), file.Metadata["checksum.a"]);
        Assert.Equal(XxHash3.HashToUInt64([]).ToString("x16"), file.Metadata["checksum.empty"]);
        Assert.Equal(SafeTensors.MetadataChecksum(file.Metadata), file.Metadata[SafeTensors.MetadataChecksumKey]);
        Assert.Equal([-1f, 0.5f, float.NaN, 4f], file.Tensors["b"].data);
    }

    [Fact]
    public void Flipped_bytes_in_a_tensor_are_refused_naming_the_file_and_the_tensor_and_the_file_is_left_as_it_is()
    {
        var path = Path.Combine(folder, "flip.safetensors");
        SafeTensors.Save(path, new Dictionary<string, (int[] shape, float[] data)>
        {
            ["first"] = ([64], Enumerable.Range(0, 64).Select(i => i * 0.25f).ToArray()),
            ["second"] = ([64], Enumerable.Range(0, 64).Select(i => -i * 0.5f).ToArray()),
        });
        var bytes = File.ReadAllBytes(path);
        var dataStart = 8 + (int)BitConverter.ToUInt64(bytes, 0);
        // 64 bytes XORed in the middle of "second" (bytes 256..511 of the data).
        for (var i = 0; i < 64; i++) bytes[dataStart + 300 + i] ^= 0x5A;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));

        Assert.StartsWith(path + ": tensor 'second'", error.Message);
        Assert.Contains($"file bytes {dataStart + 256}-{dataStart + 512}", error.Message);
        Assert.Contains("fails its checksum", error.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_changed_metadata_value_or_a_missing_checksum_is_refused()
    {
        var path = Path.Combine(folder, "meta.safetensors");
        SafeTensors.Save(path, new Dictionary<string, (int[] shape, float[] data)> { ["x"] = ([2], [1f, 2f]) },
            new Dictionary<string, string> { ["epoch"] = "3" });
        var original = File.ReadAllBytes(path);

        // Same length, so only the checksum can tell: epoch 3 becomes epoch 9.
        File.WriteAllBytes(path, Replace(original, "\"epoch\":\"3\"", "\"epoch\":\"9\""));
        Assert.Contains("the metadata fails its checksum", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path)).Message);

        File.WriteAllBytes(path, Replace(original, "\"checksum.x\"", "\"checksum.y\""));
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("corrupt", error.Message);
    }

    [Fact]
    public void A_file_without_checksums_loads_unverified_with_a_note()
    {
        var path = Path.Combine(folder, "old.safetensors");
        WriteRaw(path, """{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8);

        var file = SafeTensors.Load(path);

        Assert.False(file.ChecksumsVerified);
        Assert.Equal([0f, 0f], file.Tensors["x"].data);
        Assert.Contains("no checksums", LoadedFile.Of(file).Note);
        Assert.Null(new LoadedFile(path, ChecksumsVerified: true).Note);
    }

    [Fact]
    public void Checksum_keys_are_reserved_for_the_writer()
    {
        var path = Path.Combine(folder, "reserved.safetensors");
        var tensors = new Dictionary<string, (int[] shape, float[] data)> { ["x"] = ([1], [1f]) };

        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["checksum.x"] = "0" }));
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, tensors, new Dictionary<string, string> { [SafeTensors.ChecksumAlgorithmKey] = "crc32" }));
        Assert.False(File.Exists(path));
    }

    private static byte[] ToBytes(float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    private static byte[] Replace(byte[] bytes, string from, string to)
    {
        var text = Encoding.Latin1.GetString(bytes);
        Assert.Contains(from, text);
        Assert.Equal(from.Length, to.Length);
        return Encoding.Latin1.GetBytes(text.Replace(from, to));
    }

    private static void WriteRaw(string path, string header, int dataBytes)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = BitConverter.GetBytes((ulong)headerBytes.Length).Concat(headerBytes).Concat(new byte[dataBytes]).ToArray();
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Throws when the writer reads <paramref name="poisoned"/> the second time, i.e. while writing its data.</summary>
    private sealed class FailingOnSecondRead(Dictionary<string, (int[] shape, float[] data)> inner, string poisoned)
        : IReadOnlyDictionary<string, (int[] shape, float[] data)>
    {
        private int reads;

        public (int[] shape, float[] data) this[string key] =>
            key == poisoned && ++reads == 3 ? throw new IOException("disk full") : inner[key];

        public IEnumerable<string> Keys => inner.Keys;

        public IEnumerable<(int[] shape, float[] data)> Values => inner.Values;

        public int Count => inner.Count;

        public bool ContainsKey(string key) => inner.ContainsKey(key);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out (int[] shape, float[] data) value) => inner.TryGetValue(key, out value);

        public IEnumerator<KeyValuePair<string, (int[] shape, float[] data)>> GetEnumerator() => inner.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
