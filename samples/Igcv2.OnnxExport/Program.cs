// Trains a small IGCV2 digits model briefly on the bundled digits (or loads a weights file), exports it to
// ONNX and classifies test digits with both runtimes: the generated model on ILGPU and the exported graph
// in ONNX Runtime (CPU). Pixels are scaled to [0, 1]; feed the ONNX model the same.
//
//   dotnet run --project samples/Igcv2.OnnxExport -c Release -- [--epochs 2] [--weights w.safetensors] [--out digits.onnx]
using System.Diagnostics;
using System.Globalization;
using Igcv2;
using Igcv2.Data;
using Igcv2.Samples;
using Igcv2.Training;
using Microsoft.ML.OnnxRuntime;

var epochs = 2;
var path = "digits.onnx";
string? weights = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--epochs" when i + 1 < args.Length: epochs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out" when i + 1 < args.Length: path = args[++i]; break;
        case "--weights" when i + 1 < args.Length: weights = args[++i]; break;
        default:
            Console.Error.WriteLine("usage: Igcv2.OnnxExport [--epochs N] [--weights model.safetensors] [--out model.onnx]");
            return 2;
    }
}

const int batch = 32;
const int size = 28;
const int pixels = size * size;
var (train, test) = BundledDigits.Load();
using var device = Device.Create();
using var model = new DigitsNet(device, batch, seed: 1);
Console.WriteLine($"{nameof(DigitsNet)} on {device}: {DigitsNet.ParameterCount:N0} parameters, {DigitsNet.MultiplyAdds:N0} multiply-adds per image");

// 1. Train: one call over a loader (Keras's fit). An empty augmentation pipeline only scales the bytes to
// [0, 1], the preprocessing the ONNX model is fed below.
var clock = Stopwatch.StartNew();
var scale = new AugmentationPipeline();
if (weights is not null)
{
    model.LoadWeights(weights);
    epochs = 0;
    Console.WriteLine($"loaded {weights}");
}
if (epochs > 0)
{
    var fit = model.Fit(
        new DataLoader(train, batch, new DataLoaderOptions { Seed = 1, Augmentation = scale }),
        new FitOptions { Epochs = epochs, Optimizer = new SgdOptions { WeightDecay = 5e-4 }, Observers = [new EpochLines()] });
    Console.WriteLine($"trained {epochs} epochs of {train.Count:N0} digits in {clock.Elapsed.TotalSeconds:F1} s: {fit.Message}");
}

// 2. Export: the inference graph, BN with the running statistics, initializers named as model.Parameters.
Onnx.Save(model, path);
Console.WriteLine($"exported {Path.GetFullPath(path)} ({new FileInfo(path).Length:N0} bytes)");

// 3. Classify the same test digits with both runtimes.
const int tests = 256;
var testImages = new float[tests * pixels];
var testLabels = new int[tests];
for (var i = 0; i < tests; i++)
{
    Scale(test.Image(i), testImages.AsSpan(i * pixels, pixels));
    testLabels[i] = test.Label(i);
}
var ours = new float[tests * DigitsNet.Spec.Classes];
using (var x = device.Allocate(batch, 1, size, size))
{
    for (var start = 0; start < tests; start += batch)
    {
        x.CopyFrom(testImages.AsSpan(start * pixels, batch * pixels));
        model.Forward(x, training: false).CopyTo(ours.AsSpan(start * DigitsNet.Spec.Classes, batch * DigitsNet.Spec.Classes));
    }
}

using var session = new InferenceSession(path);
using var input = OrtValue.CreateTensorValueFromMemory(testImages, [tests, 1, size, size]);
using var runOptions = new RunOptions();
using var outputs = session.Run(runOptions, ["input"], [input], ["logits"]);
var theirs = outputs[0].GetTensorDataAsSpan<float>().ToArray();

Console.WriteLine();
Console.WriteLine(" #  label  Igcv2 (ILGPU)  ONNX Runtime  max |logit difference|");
int oursCorrect = 0, theirsCorrect = 0, agree = 0;
double maxDifference = 0;
for (var i = 0; i < tests; i++)
{
    var a = ours.AsSpan(i * 10, 10);
    var b = theirs.AsSpan(i * 10, 10);
    int predictedOurs = ArgMax(a), predictedTheirs = ArgMax(b);
    double difference = 0;
    for (var c = 0; c < 10; c++) difference = Math.Max(difference, Math.Abs(a[c] - b[c]));
    maxDifference = Math.Max(maxDifference, difference);
    oursCorrect += predictedOurs == testLabels[i] ? 1 : 0;
    theirsCorrect += predictedTheirs == testLabels[i] ? 1 : 0;
    agree += predictedOurs == predictedTheirs ? 1 : 0;
    if (i < 12) Console.WriteLine($"{i,2}  {testLabels[i],5}  {predictedOurs,13}  {predictedTheirs,12}  {difference,22:E2}");
}
Console.WriteLine();
Console.WriteLine($"accuracy on {tests} test digits: Igcv2 {100.0 * oursCorrect / tests:F1}%, ONNX Runtime {100.0 * theirsCorrect / tests:F1}%; " +
                  $"the runtimes agree on {agree}/{tests}, largest logit difference {maxDifference:E2}");
return agree == tests ? 0 : 1;

static void Scale(ReadOnlySpan<byte> image, Span<float> destination)
{
    for (var p = 0; p < image.Length; p++) destination[p] = image[p] / 255f;
}

static int ArgMax(ReadOnlySpan<float> values)
{
    var best = 0;
    for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
    return best;
}

/// <summary>One line per epoch: the plain observer a sample needs (Igcv2.Training.Console has the progress bar).</summary>
sealed class EpochLines : ITrainingObserver
{
    public void EpochCompleted(EpochReport e) =>
        Console.WriteLine(FormattableString.Invariant($"  epoch {e.Epoch}  loss {e.TrainLoss:F4}  accuracy {100 * e.TrainAccuracy:F1}%"));
}
