using Igcv2.Data;
using Igcv2.Tests.Models;
using Igcv2.Training;

namespace Igcv2.Tests.Training;

/// <summary>The one-call API: <c>model.Fit(loader, options)</c> and <c>model.Predict(images)</c>, on a generated network.</summary>
public sealed class FitPredictTests : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);

    public void Dispose() => device.Dispose();

    /// <summary>2 x 6 x 6 images of 3 classes: bright channel 0, bright channel 1, or both dark; noise on top.</summary>
    private static Dataset Blobs(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 72];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % 3;
            for (var p = 0; p < 72; p++)
            {
                var bright = labels[i] < 2 && p / 36 == labels[i];
                pixels[i * 72 + p] = (byte)((bright ? 170 : 40) + random.Next(60));
            }
        }
        return new Dataset($"blobs-{seed}", pixels, labels, 2, 6, 6, 3);
    }

    [Fact]
    public void Fit_over_loaders_learns_and_reports_each_epoch_with_validation()
    {
        var train = Blobs(120, 1);
        var test = Blobs(60, 2);
        var preprocessing = AugmentationPipeline.Evaluation(Normalize.From(train));
        using var model = new TinyWideningNet(device, batchSize: 8, seed: 3);
        var recorder = new EpochRecorder();

        var result = model.Fit(
            new DataLoader(train, 8, new DataLoaderOptions { Seed = 4, Augmentation = preprocessing }),
            new FitOptions
            {
                Epochs = 4,
                Validation = new DataLoader(test, 8, new DataLoaderOptions { Shuffle = false, Augmentation = preprocessing }),
                Observers = [recorder],
            });

        Assert.True(result.Completed, result.Message);
        Assert.Equal([1, 2, 3, 4], result.History.Select(e => e.Epoch));
        Assert.Equal(4, recorder.Epochs);
        Assert.True(result.History[^1].TestAccuracy > 0.9, $"validation accuracy {result.History[^1].TestAccuracy}");

        var predictions = model.Predict(test, preprocessing, topK: 2);
        Assert.Equal(test.Count, predictions.Length);
        var correct = predictions.Where((p, i) => p.Class == test.Label(i)).Count();
        Assert.True(correct >= 54, $"{correct} of {test.Count} predicted right");
    }

    [Fact]
    public void Fit_refuses_a_loader_whose_images_the_model_cannot_read()
    {
        using var model = new TinyWideningNet(device, batchSize: 8);
        var wrong = new Dataset("wrong", new byte[4 * 3 * 6 * 6], new int[4], 3, 6, 6, 3);
        var e = Assert.Throws<ArgumentException>(() => model.Fit(new DataLoader(wrong, 4)));
        Assert.Contains("reads 2x6x6 images; the loader yields 3x6x6", e.Message);
    }

    [Fact]
    public void Predict_gives_the_softmax_of_the_inference_logits_and_sorted_top_classes_across_batches()
    {
        // 11 images through a model of batch 4: batches of 4, 4 and 3.
        using var model = new TinyWideningNet(device, batchSize: 4, seed: 5);
        var random = new Random(6);
        var images = Enumerable.Range(0, 11 * 72).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();

        var predictions = model.Predict(images, topK: 3);

        Assert.Equal(11, predictions.Length);
        using var one = device.Allocate(1, 2, 6, 6);
        for (var i = 0; i < 11; i++)
        {
            one.CopyFrom(images.AsSpan(i * 72, 72));
            var logits = model.Forward(one, training: false).ToArray();
            var max = logits.Max();
            var sum = logits.Sum(z => Math.Exp(z - max));
            var p = predictions[i];
            for (var c = 0; c < 3; c++) Assert.Equal(Math.Exp(logits[c] - max) / sum, p.Probabilities[c], 5);
            Assert.Equal(1.0, p.Probabilities.Sum(), 5);
            Assert.Equal(Enumerable.Range(0, 3).OrderByDescending(c => logits[c]).ToArray(), p.TopClasses);
            Assert.Equal(p.TopClasses[0], p.Class);
            Assert.Equal(p.Probabilities.Max(), p.Confidence);
        }
    }

    [Fact]
    public void Predict_refuses_a_partial_image_and_a_top_k_beyond_the_classes()
    {
        using var model = new TinyWideningNet(device, batchSize: 4);
        Assert.Throws<ArgumentException>(() => model.Predict(new float[71]));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(new float[72], topK: 4));
    }

    private sealed class EpochRecorder : ITrainingObserver
    {
        public int Epochs { get; private set; }

        public void EpochCompleted(EpochReport epoch) => Epochs++;
    }
}
