using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Igcv2;
using Igcv2.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = Igcv2.Device;

// Times each kernel at IGCV2 shapes (batch 64) with both CPU launchers: Parallel.For over host buffers
// (the default) and ILGPU's CPU accelerator (the code CUDA runs, emulated); then the ILGPU kernel bodies
// called straight from Parallel.For. Median and minimum of timed runs after warm-up runs.
// Usage: dotnet run -c Release --project benchmarks/Igcv2.Benchmarks [-- --batch 64 --runs 7 --accelerator-runs 3 --filter conv]
// (--filter body runs only the kernel-body comparison).
int batch = 64, runs = 7, acceleratorRuns = 3, threads = 2;
string filter = "", ort = "";
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--batch": batch = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--accelerator-runs": acceleratorRuns = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--filter": filter = args[i + 1]; break;
        case "--ort": ort = args[i + 1]; break;
        case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
    }
}

// ONNX Runtime (CPU execution provider) on a model Igcv2.GpuBench exported (--onnx): the reference point for our
// whole-model CPU inference. Usage: -- --ort bench-results/export/Igcv2C64.onnx --batch 64 --threads 2 --runs 7
if (ort.Length > 0)
{
    TimeOnnxRuntime(ort, batch, threads, runs);
    return;
}

Console.WriteLine($"Igcv2 kernel benchmark: batch {batch}, {Environment.ProcessorCount} cores, Vector<float>.Count = {System.Numerics.Vector<float>.Count}");
Console.WriteLine($"median ms of {runs} runs (host) / {acceleratorRuns} runs (ILGPU CPU accelerator), after warm-up runs");
Console.WriteLine();

using var host = Device.Create(DeviceKind.Cpu, CpuLauncher.HostParallel);
using var emulated = Device.Create(DeviceKind.Cpu, CpuLauncher.Accelerator);

var cases = Cases(batch).Where(c => c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
if (cases.Count > 0)
{
    Console.WriteLine($"| {"op",-50} | {"host median",11} | {"host min",9} | {"accel median",12} | {"accel min",9} | {"host faster",11} |");
    Console.WriteLine($"|{new string('-', 52)}|{new string('-', 13)}|{new string('-', 11)}|{new string('-', 14)}|{new string('-', 11)}|{new string('-', 13)}|");
    foreach (var (name, build) in cases)
    {
        var (hostMedian, hostMin) = Time(host, build, runs);
        var (accelMedian, accelMin) = Time(emulated, build, acceleratorRuns);
        Console.WriteLine($"| {name,-50} | {hostMedian,11:F2} | {hostMin,9:F2} | {accelMedian,12:F1} | {accelMin,9:F1} | {accelMin / hostMin,10:F1}x |");
    }
}

// The third launcher the design suggested: the ILGPU kernel bodies themselves (implicitly grouped, so plain
// static methods) called from Parallel.For over the CPU buffers. Measured to decide the default.
if (string.IsNullOrEmpty(filter) || filter.Equals("body", StringComparison.OrdinalIgnoreCase))
{
    Console.WriteLine();
    Console.WriteLine("ILGPU kernel body called from Parallel.For (one kernel source) vs the vectorised host kernels:");
    Console.WriteLine();
    Console.WriteLine($"| {"op",-50} | {"host min",9} | {"body via Parallel.For min",25} | {"host faster",11} |");
    Console.WriteLine($"|{new string('-', 52)}|{new string('-', 11)}|{new string('-', 27)}|{new string('-', 13)}|");
    foreach (var (name, c, size, k, groups) in new[] { ("conv dw 3x3 64ch 32x32", 64, 32, 3, 64), ("conv 1x1 64->64 g8 64ch 32x32", 64, 32, 1, 8), ("conv dw 3x3 32ch 28x28", 32, 28, 3, 32) })
    {
        var (_, hostMin) = Time(host, d => Conv(d, batch, c, size, c, k, groups, 1, Pass.Forward), runs);
        var (_, bodyMin) = Time(host, d => ConvBody(d, batch, c, size, k, groups), runs);
        Console.WriteLine($"| {name,-50} | {hostMin,9:F2} | {bodyMin,25:F2} | {bodyMin / hostMin,10:F1}x |");
    }
    {
        var (_, hostMin) = Time(host, d => Elementwise(d, batch, 64, 32, (o, a, _, y) => o.Relu(a, y, batch)), runs);
        var (_, bodyMin) = Time(host, d => ReluBody(d, batch, 64, 32), runs);
        Console.WriteLine($"| {"relu 64ch 32x32",-50} | {hostMin,9:F2} | {bodyMin,25:F2} | {bodyMin / hostMin,10:F1}x |");
    }
}

static void TimeOnnxRuntime(string path, int n, int threads, int runs)
{
    using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
    options.GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL;
    using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path, options);
    var input = session.InputMetadata.First();
    int[] shape = [n, .. input.Value.Dimensions.Skip(1)];
    var values = new float[shape.Aggregate(1, (a, d) => a * d)];
    var random = new Random(1);
    for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
    var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(values, shape);
    var feeds = new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(input.Key, tensor) };
    for (int w = 0; w < 3; w++) session.Run(feeds).Dispose();
    var times = new double[runs];
    for (int r = 0; r < runs; r++)
    {
        var watch = Stopwatch.StartNew();
        session.Run(feeds).Dispose();
        times[r] = watch.Elapsed.TotalMilliseconds;
    }
    Array.Sort(times);
    Console.WriteLine($"ONNX Runtime {Path.GetFileName(path)}: batch {n}, {threads} intra-op threads: median {times[runs / 2]:F2} ms ({n / (times[runs / 2] / 1000):F0} images/s), min {times[0]:F2} ms over {runs} runs after 3 warm-up runs");
}

static (Action, IDisposable) ConvBody(Device d, int n, int c, int size, int k, int groups)
{
    var x = Random(d, n, c, size, size);
    var w = Random(d, c, c / groups, k, k);
    var y = Random(d, n, c, size, size);
    var body = KernelBody<Action<Index1D, ConvGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>>("Convolution", "ForwardKernel");
    var g = new ConvGeometry(n, c, size, size, c, k, groups, 1);
    int total = n * c * size * size, slices = Environment.ProcessorCount * 4;
    ArrayView<float> xv = x.View.AsContiguous(), wv = w.View.AsContiguous(), yv = y.View.AsContiguous();
    return (() => Parallel.For(0, slices, i => body(new Index1D(i), g, total, slices, xv, wv, yv)), new Owned(x, w, y));
}

static (Action, IDisposable) ReluBody(Device d, int n, int c, int size)
{
    var x = Random(d, n, c, size, size);
    var y = Random(d, n, c, size, size);
    var body = KernelBody<Action<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>>("Activations", "ForwardKernel");
    int total = n * c * size * size, slices = Environment.ProcessorCount * 4, relu = (int)Igcv2.Design.Activation.Relu;
    ArrayView<float> xv = x.View.AsContiguous(), yv = y.View.AsContiguous();
    return (() => Parallel.For(0, slices, i => body(new Index1D(i), total, slices, relu, xv, yv)), new Owned(x, y));
}

// An op's ILGPU kernel, which lives beside its host loop (Kernels/Operations): the class and the kernel's name.
static TDelegate KernelBody<TDelegate>(string op, string name) where TDelegate : Delegate =>
    typeof(Device).Assembly.GetType("Igcv2.Kernels." + op, throwOnError: true)!
        .GetMethod(name, BindingFlags.Public | BindingFlags.Static)!
        .CreateDelegate<TDelegate>();

// Median and minimum: on a shared machine the minimum is the better estimate of the kernel's own cost.
static (double Median, double Min) Time(Device device, Func<Device, (Action Run, IDisposable Owned)> build, int runs)
{
    var (run, owned) = build(device);
    using (owned)
    {
        // Warm-up: the JIT tiers hot loops up after a few calls.
        for (int w = 0; w < Math.Min(runs, 3); w++) run();
        device.Synchronize();
        var times = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            var watch = Stopwatch.StartNew();
            run();
            device.Synchronize();
            times[r] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return (times[runs / 2], times[0]);
    }
}

static IEnumerable<(string Name, Func<Device, (Action, IDisposable)> Build)> Cases(int n)
{
    foreach (var (c, size, groupsDw, groups1x1) in new[] { (64, 32, 64, 8), (128, 16, 128, 16), (32, 28, 32, 4) })
    {
        string s = $"{c}ch {size}x{size}";
        yield return ($"conv dw 3x3 {s}", d => Conv(d, n, c, size, c, 3, groupsDw, 1, Pass.Forward));
        yield return ($"conv dw 3x3 {s} backward input", d => Conv(d, n, c, size, c, 3, groupsDw, 1, Pass.Input));
        yield return ($"conv dw 3x3 {s} backward weight", d => Conv(d, n, c, size, c, 3, groupsDw, 1, Pass.Weight));
        yield return ($"conv 1x1 {c}->{c} g{groups1x1} {s}", d => Conv(d, n, c, size, c, 1, groups1x1, 1, Pass.Forward));
        yield return ($"conv 1x1 {c}->{c} g{groups1x1} {s} backward input", d => Conv(d, n, c, size, c, 1, groups1x1, 1, Pass.Input));
        yield return ($"conv 1x1 {c}->{c} g{groups1x1} {s} backward weight", d => Conv(d, n, c, size, c, 1, groups1x1, 1, Pass.Weight));
        yield return ($"batch norm training {s}", d => BatchNorm(d, n, c, size, backward: false));
        yield return ($"batch norm backward {s}", d => BatchNorm(d, n, c, size, backward: true));
        yield return ($"channel shuffle G={groups1x1} {s}", d => Elementwise(d, n, c, size, (o, a, _, y) => o.ChannelShuffle(a, y, n, groups1x1)));
        yield return ($"relu {s}", d => Elementwise(d, n, c, size, (o, a, _, y) => o.Relu(a, y, n)));
        yield return ($"add {s}", d => Elementwise(d, n, c, size, (o, a, b, y) => o.Add(a, b, y, n)));
    }
    yield return ("conv dw 3x3 64ch 32x32 stride 2", d => Conv(d, n, 64, 32, 64, 3, 64, 2, Pass.Forward));
    yield return ("global average pool 256ch 8x8", d =>
    {
        var x = Random(d, n, 256, 8, 8);
        var y = Random(d, n, 256);
        var ops = d.Ops;
        return (() => ops.GlobalAveragePool(x, y, n), new Owned(x, y));
    });
}

static (Action, IDisposable) Conv(Device d, int n, int c, int size, int cout, int k, int groups, int stride, Pass pass)
{
    int o = (size - 1) / stride + 1;
    var x = Random(d, n, c, size, size);
    var w = Random(d, cout, c / groups, k, k);
    var y = Random(d, n, cout, o, o);
    var ops = d.Ops;
    Action run = pass switch
    {
        Pass.Forward => () => ops.Conv2d(x, w, y, n, groups, stride),
        Pass.Input => () => ops.Conv2dBackwardInput(y, w, x, n, groups, stride),
        _ => () => ops.Conv2dBackwardWeight(x, y, w, n, groups, stride),
    };
    return (run, new Owned(x, w, y));
}

static (Action, IDisposable) BatchNorm(Device d, int n, int c, int size, bool backward)
{
    var x = Random(d, n, c, size, size);
    var y = Random(d, n, c, size, size);
    var gx = Random(d, n, c, size, size);
    var p = Enumerable.Range(0, 7).Select(_ => Random(d, c)).ToArray();
    var ops = d.Ops;
    ops.BatchNormTraining(x, p[0], p[1], y, p[2], p[3], p[4], p[5], n, 0.1f, 1e-5f);
    Action run = backward
        ? () => ops.BatchNormBackward(x, y, p[0], p[2], p[3], gx, p[5], p[6], n)
        : () => ops.BatchNormTraining(x, p[0], p[1], y, p[2], p[3], p[4], p[5], n, 0.1f, 1e-5f);
    return (run, new Owned([x, y, gx, .. p]));
}

static (Action, IDisposable) Elementwise(Device d, int n, int c, int size, Action<Ops, Tensor, Tensor, Tensor> op)
{
    var a = Random(d, n, c, size, size);
    var b = Random(d, n, c, size, size);
    var y = Random(d, n, c, size, size);
    var ops = d.Ops;
    return (() => op(ops, a, b, y), new Owned(a, b, y));
}

static Tensor Random(Device d, params int[] shape)
{
    var t = d.Allocate(shape);
    var random = new Random(shape.Sum());
    var values = new float[t.Length];
    for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
    t.CopyFrom(values);
    return t;
}

internal enum Pass { Forward, Input, Weight }

internal sealed class Owned(params Tensor[] tensors) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in tensors) t.Dispose();
    }
}
