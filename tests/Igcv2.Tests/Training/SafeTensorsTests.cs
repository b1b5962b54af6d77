using System.Collections;
using System.Diagnostics.CodeAnalysis;
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

        Assert.Equal("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", header);
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
