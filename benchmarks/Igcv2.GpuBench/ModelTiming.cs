using System.Diagnostics;
using Igcv2.Training;

namespace Igcv2.GpuBench;

/// <summary>One network at one batch size: medians of the timed runs, after warm-up runs.</summary>
public sealed record TimingResult(
    string Network,
    string Device,
    int Batch,
    double InferenceMs,
    double InferenceMinMs,
    double TrainStepMs,
    double TrainStepMinMs,
    int Runs,
    double PeakMemoryMiB)
{
    public double InferenceImagesPerSecond => Batch / (InferenceMs / 1000.0);

    public double TrainImagesPerSecond => Batch / (TrainStepMs / 1000.0);
}

public static class ModelTiming
{
    /// <summary>SGD as the paper trains (Nesterov 0.9, weight decay 1e-4) with a small rate: random data must not diverge in the runs.</summary>
    public const double LearningRate = 1e-3;

    public static TimingResult Run(Device device, BenchNetwork network, int batch, int warmup, int runs, int seed = 0)
    {
        var before = MemoryProbe.Used(device);
        long peak = before;
        using var model = network.Create(device, batch, seed);
        using var x = TensorUtil.Random(device, seed + 1, batch, network.InputChannels, network.InputSize, network.InputSize);
        using var labels = TensorUtil.Labels(device, batch, network.Classes, seed + 2);
        using var gradLogits = device.Allocate(batch, network.Classes);
        using var sgd = new Sgd(model.Parameters, new SgdOptions());
        var ops = device.Ops;

        void Inference() => model.Forward(x, training: false);
        void TrainStep()
        {
            var logits = model.Forward(x, training: true);
            var loss = ops.SoftmaxCrossEntropy(logits, labels, gradLogits, batch);
            if (!float.IsFinite(loss)) throw new InvalidOperationException($"{network.ClassName}: the loss is {loss} during the timed steps.");
            model.Backward(gradLogits);
            sgd.Step(LearningRate);
        }

        var (trainMedian, trainMin) = Time(device, TrainStep, warmup, runs);
        peak = Math.Max(peak, MemoryProbe.Used(device));
        var (inferMedian, inferMin) = Time(device, Inference, warmup, runs);
        peak = Math.Max(peak, MemoryProbe.Used(device));
        var peakMiB = before < 0 || peak < 0 ? double.NaN : (peak - before) / (1024.0 * 1024.0);
        return new TimingResult(network.ClassName, device.ToString(), batch, inferMedian, inferMin, trainMedian, trainMin, runs, peakMiB);
    }

    /// <summary>Warm-up runs (JIT, PTX compilation, lazy buffers) are not timed; the device is synchronised before each clock read.</summary>
    public static (double Median, double Min) Time(Device device, Action run, int warmup, int runs)
    {
        for (var w = 0; w < warmup; w++) run();
        device.Synchronize();
        var times = new double[runs];
        for (var r = 0; r < runs; r++)
        {
            var watch = Stopwatch.StartNew();
            run();
            device.Synchronize();
            times[r] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        var median = runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
        return (median, times[0]);
    }
}
