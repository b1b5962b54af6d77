using System.Text;
using System.Text.Json;

namespace Igcv2.Tests.Training;

/// <summary>Writes and edits safetensors files the way other tools (and this library before checksums) do.</summary>
internal static class SafeTensorsFiles
{
    /// <summary>
    /// The file as the writer wrote it before checksums, and as other tools write it: the same tensors and
    /// metadata, no <c>checksum*</c> keys. Built byte by byte from the spec, not with <see cref="SafeTensors.Save"/>.
    /// </summary>
    public static void WriteWithoutChecksums(string path, IReadOnlyDictionary<string, (int[] shape, float[] data)> tensors, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata.Where(p => !p.Key.StartsWith("checksum", StringComparison.Ordinal))) json.WriteString(key, value);
            json.WriteEndObject();
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
                offset += data.Length * 4L;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)header.Length));
        file.Write(header.ToArray());
        foreach (var name in names) file.Write(tensors[name].data.SelectMany(BitConverter.GetBytes).ToArray());
    }

    /// <summary>Rewrites <paramref name="path"/> with one value of <paramref name="tensor"/> replaced, with fresh checksums or none.</summary>
    public static void SetValue(string path, string tensor, int index, float value, bool checksums)
    {
        var file = SafeTensors.Load(path);
        var tensors = file.Tensors.ToDictionary(p => p.Key, p => (p.Value.shape, data: (float[])p.Value.data.Clone()));
        tensors[tensor].data[index] = value;
        if (checksums)
        {
            SafeTensors.Save(path, tensors, file.Metadata.Where(p => !p.Key.StartsWith("checksum", StringComparison.Ordinal)).ToDictionary());
        }
        else
        {
            WriteWithoutChecksums(path, tensors, file.Metadata);
        }
    }

    /// <summary>XORs <paramref name="count"/> bytes with 0xA5, starting <paramref name="offset"/> bytes into the data of <paramref name="tensor"/>.</summary>
    public static byte[] FlipBytes(string path, string tensor, int offset, int count)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength));
        var begin = header.RootElement.GetProperty(tensor).GetProperty("data_offsets")[0].GetInt32();
        for (var i = 0; i < count; i++) bytes[8 + headerLength + begin + offset + i] ^= 0xA5;
        File.WriteAllBytes(path, bytes);
        return bytes;
    }
}
