using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Igcv2.Tests.Export;

/// <summary>One CPU device for a test class (creating an ILGPU context costs a little).</summary>
public sealed class CpuDeviceFixture : IDisposable
{
    public Device Device { get; } = Device.Create(DeviceKind.Cpu);

    public void Dispose() => Device.Dispose();
}

internal static class OnnxTestSupport
{
    public static ModelProto Parse(byte[] bytes) => ModelProto.Parser.ParseFrom(bytes);

    /// <summary>Uniform values in [-1, 1].</summary>
    public static float[] RandomImages(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(2 * random.NextDouble() - 1);
        return values;
    }

    /// <summary>Runs an exported model in ONNX Runtime (CPU) and returns <c>logits</c> [n, classes].</summary>
    public static float[] RunOnnxRuntime(byte[] model, float[] images, int n, int channels, int size)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model, options);
        using var input = OrtValue.CreateTensorValueFromMemory(images, [n, channels, size, size]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["input"], [input], ["logits"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// max_i |actual_i - expected_i| / max_i |expected_i|: the error relative to the logits' scale (an
    /// element-wise ratio would divide by logits that happen to be near zero).
    /// </summary>
    public static double MaxRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0, error = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(double.IsFinite(actual[i]), $"logit {i} is {actual[i]}");
            scale = Math.Max(scale, Math.Abs(expected[i]));
            error = Math.Max(error, Math.Abs(actual[i] - expected[i]));
        }
        Assert.True(scale > 0, "the reference logits are all zero: the comparison would prove nothing");
        return error / scale;
    }
}
