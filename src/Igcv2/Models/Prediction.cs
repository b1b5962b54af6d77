using Igcv2.Data;

namespace Igcv2;

/// <summary>One image's prediction: the class probabilities (softmax of the logits) and the most likely classes.</summary>
/// <param name="Probabilities">One probability per class, summing to 1.</param>
/// <param name="TopClasses">The most likely classes, most likely first (ties: the lower index first).</param>
public sealed record Prediction(float[] Probabilities, int[] TopClasses)
{
    /// <summary>The most likely class.</summary>
    public int Class => TopClasses[0];

    /// <summary>The probability of <see cref="Class"/>.</summary>
    public float Confidence => Probabilities[Class];
}

/// <summary>Inference on images in one call (Keras's <c>model.predict</c>): batching, inference mode, softmax, top-k.</summary>
public static class ModelPredictExtensions
{
    /// <summary>
    /// Runs <paramref name="model"/> in inference mode on <paramref name="images"/> (NCHW float32, as preprocessed for
    /// training: normalised the same way) and returns one <see cref="Prediction"/> per image, with its
    /// <paramref name="topK"/> most likely classes. Any number of images: they go through in batches of
    /// <see cref="IModel.BatchSize"/>.
    /// </summary>
    public static Prediction[] Predict(this IModel model, ReadOnlySpan<float> images, int topK = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        var spec = model.Plan.Spec;
        var imageSize = spec.InputChannels * spec.InputSize * spec.InputSize;
        if (images.Length % imageSize != 0)
        {
            throw new ArgumentException($"{images.Length} floats are not whole {spec.InputChannels}x{spec.InputSize}x{spec.InputSize} images ({imageSize} floats each).", nameof(images));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(topK, spec.Classes);

        var count = images.Length / imageSize;
        var predictions = new Prediction[count];
        var inputs = new Dictionary<int, Tensor>();
        try
        {
            for (var start = 0; start < count; start += model.BatchSize)
            {
                var n = Math.Min(model.BatchSize, count - start);
                if (!inputs.TryGetValue(n, out var input))
                {
                    inputs[n] = input = model.Device.Allocate(n, spec.InputChannels, spec.InputSize, spec.InputSize);
                }
                input.CopyFrom(images.Slice(start * imageSize, n * imageSize));
                var logits = model.Forward(input, training: false).ToArray();
                for (var i = 0; i < n; i++)
                {
                    predictions[start + i] = FromLogits(logits.AsSpan(i * spec.Classes, spec.Classes), topK);
                }
            }
        }
        finally
        {
            foreach (var tensor in inputs.Values) tensor.Dispose();
        }
        return predictions;
    }

    /// <summary>
    /// Predicts every image of <paramref name="data"/> in order, preprocessed by <paramref name="preprocessing"/>
    /// (what training evaluated with: <c>AugmentationPipeline.Evaluation(Normalize.From(trainingSet))</c>).
    /// </summary>
    public static Prediction[] Predict(this IModel model, Dataset data, AugmentationPipeline preprocessing, int topK = 1)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(preprocessing);
        var (c, h, w) = preprocessing.OutputShape(data.Channels, data.Height, data.Width);
        var floats = new float[(long)data.Count * c * h * w];
        var random = new Random(0); // evaluation pipelines draw nothing; a fixed seed keeps any that do repeatable
        for (var i = 0; i < data.Count; i++)
        {
            preprocessing.Apply(data.Image(i), data.Channels, data.Height, data.Width, floats.AsSpan(i * c * h * w, c * h * w), random);
        }
        return model.Predict(floats, topK);
    }

    /// <summary>Softmax in double with the max subtracted, then the <paramref name="topK"/> largest, stable on ties.</summary>
    private static Prediction FromLogits(ReadOnlySpan<float> logits, int topK)
    {
        double max = double.NegativeInfinity;
        foreach (var z in logits) max = Math.Max(max, z);
        double sum = 0;
        foreach (var z in logits) sum += Math.Exp(z - max);
        var probabilities = new float[logits.Length];
        for (var c = 0; c < logits.Length; c++) probabilities[c] = (float)(Math.Exp(logits[c] - max) / sum);
        var order = Enumerable.Range(0, logits.Length).ToArray();
        var keys = logits.ToArray();
        Array.Sort(order, (a, b) => keys[b] != keys[a] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
        return new Prediction(probabilities, order[..topK]);
    }
}
