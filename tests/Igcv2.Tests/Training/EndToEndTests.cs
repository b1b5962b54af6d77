using Igcv2.Data;
using Igcv2.Training;

namespace Igcv2.Tests.Training;

/// <summary>A small generated IGCV2 model for digits: stride 2 and a widening in each stage.</summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(16, Stride = 2)]
[Stage(32, Blocks = 2, K = [1, 4, 8], Stride = 2)]
public partial class EndToEndDigitsNet;

/// <summary>
/// The same network ending with the IGCV2* head of Table 8 instead of the fully connected layer: two 1x1 group
/// convolutions after the pooling, 32 -> 32 (16 branches of 2) -> 10 (2 branches of 16), BN and P_1 between
/// them; prod K = 32 = C, one path per pair.
/// </summary>
[Igcv2Network(InputChannels = 1, InputSize = 28, Classes = 10)]
[Stem(16, Stride = 2)]
[Stage(32, Blocks = 2, K = [1, 4, 8], Stride = 2)]
[Classifier(K = [2, 16])]
public partial class EndToEndDigitsHeadNet;

/// <summary>Generated models trained by the trainer through the real kernels, on the bundled digits.</summary>
public sealed class EndToEndTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);
    private readonly string folder = Directory.CreateTempSubdirectory("igcv2-e2e-").FullName;

    public void Dispose()
    {
        device.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Training_on_a_thousand_digits_beats_chance_by_a_wide_margin()
    {
        using var model = new EndToEndDigitsNet(device, 32, seed: 1);
        TrainsOnAThousandDigits(model);
    }

    [Fact]
    public void Training_with_the_IGCV2_star_head_beats_chance_by_a_wide_margin()
    {
        using var model = new EndToEndDigitsHeadNet(device, 32, seed: 1);
        TrainsOnAThousandDigits(model);
    }

    /// <summary>8 epochs on 1,000 digits: tested on 400 more, it must beat 60% (chance is 10%) and lower its loss.</summary>
    private void TrainsOnAThousandDigits(IModel model)
    {
        var (train, test) = Digits(1000, 400);
        using var trainer = new Trainer(model, Loss(), Options(epochs: 8, checkpoint: null));
        var result = trainer.Run(epoch => Loader(train).Epoch(epoch), Loader(train).BatchesPerEpoch, Loader(test, shuffle: false).Epoch(0));

        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        output.WriteLine($"{model.GetType().Name}: test accuracy {result.History[^1].TestAccuracy:P1} after {result.History.Count} epochs");
        Assert.True(result.History[^1].TestAccuracy > 0.6, $"test accuracy {result.History[^1].TestAccuracy:P1} (chance: 10%)");
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss);
    }

    [Fact]
    public void Resuming_from_a_checkpoint_continues_bit_for_bit()
    {
        var (train, _) = Digits(256, 0);
        var path = Path.Combine(folder, "resume.safetensors");

        using var straight = new EndToEndDigitsNet(device, 32, seed: 2);
        using (var trainer = new Trainer(straight, Loss(), Options(epochs: 2, checkpoint: null)))
        {
            trainer.Run(epoch => Loader(train).Epoch(epoch), Loader(train).BatchesPerEpoch);
        }

        using (var first = new EndToEndDigitsNet(device, 32, seed: 2))
        using (var trainer = new Trainer(first, Loss(), Options(epochs: 1, checkpoint: path)))
        {
            trainer.Run(epoch => Loader(train).Epoch(epoch), Loader(train).BatchesPerEpoch);
        }

        using var resumed = new EndToEndDigitsNet(device, 32, seed: 99);
        using (var trainer = new Trainer(resumed, Loss(), Options(epochs: 2, checkpoint: path)))
        {
            trainer.LoadCheckpoint(path);
            trainer.Run(epoch => Loader(train).Epoch(epoch), Loader(train).BatchesPerEpoch);
        }

        foreach (var (a, b) in straight.Parameters.Zip(resumed.Parameters))
        {
            Assert.Equal(a.GetValues(), b.GetValues());
        }
        foreach (var (a, b) in straight.Buffers.Zip(resumed.Buffers))
        {
            Assert.Equal(a.GetValues(), b.GetValues());
        }
    }

    private static (Dataset Train, Dataset Test) Digits(int trainCount, int testCount)
    {
        var (train, test) = BundledDigits.Load();
        return (train.Subset(0, trainCount), testCount > 0 ? test.Subset(0, testCount) : test);
    }

    private static DataLoader Loader(Dataset data, bool shuffle = true) =>
        new(data, 32, new DataLoaderOptions { Seed = 3, Shuffle = shuffle, Augmentation = AugmentationPipeline.Mnist(new Normalize([0.13f], [0.31f])) });

    private ILossFunction Loss() => LossFunction.From(device.Ops.SoftmaxCrossEntropy);

    private static TrainerOptions Options(int epochs, string? checkpoint) => new()
    {
        Epochs = epochs,
        // One schedule for every run, whatever its length, so a resumed run can match a straight one.
        Schedule = new CosineSchedule(0.1, epochs: 8),
        Seed = 3,
        CheckpointPath = checkpoint,
    };
}
