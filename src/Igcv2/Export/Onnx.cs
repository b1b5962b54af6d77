using Google.Protobuf;

namespace Igcv2;

/// <summary>
/// ONNX export of a generated network's inference graph (opset 13+, standard ops only): Conv with
/// <c>group</c> for every group convolution, BatchNormalization with the running statistics, Relu, Add for
/// the skips, the channel shuffles as Reshape/Transpose/Reshape (or Gather), GlobalAveragePool, Flatten
/// and Gemm. The graph reads <c>input</c> [N, C, H, W] with a symbolic batch <c>N</c> and writes
/// <c>logits</c> [N, classes] (no softmax). Initializer names are the model's <see cref="IModel.Parameters"/>
/// names plus the BN running statistics (<c>&lt;bn&gt;.running_mean</c>, <c>&lt;bn&gt;.running_var</c>), so
/// a PyTorch module with the same names loads them unchanged.
/// </summary>
public static class Onnx
{
    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>, atomically: a reader never sees half a file.</summary>
    public static void Save(IModel model, string path) => Save(model, path, null);

    /// <inheritdoc cref="Save(IModel, string)"/>
    public static void Save(IModel model, string path, OnnxExportOptions? options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = ToBytes(model, options);

        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="stream"/> (left open).</summary>
    public static void Save(IModel model, Stream stream, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes(model, options));
    }

    /// <summary>The serialized ONNX model, e.g. for <c>new InferenceSession(bytes)</c> without a file.</summary>
    public static byte[] ToBytes(IModel model, OnnxExportOptions? options = null) =>
        OnnxGraphBuilder.Build(model, options ?? OnnxExportOptions.Default).ToByteArray();
}
