using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using Igcv2;
using Igcv2.GpuBench;
using Igcv2.Kernels;
using Igcv2.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// Side by side in one run, on the CPU: our fused inference, our unfused steps and ONNX Runtime on the model's own
// exported graph (batch 64 and 1), the training step, peak memory, and the fraction of the machine's FMA peak.
// Each round runs every contender three times back to back, in turn, each after a pause (--pause, 100 ms: so the last
// one's threads, ONNX Runtime's spinning ones included, are parked), so drift on a shared machine hits them alike;
// medians of the rounds. 20 ms was not enough: DigitsNet's fused batch of 64 measured 5.6-6.2 ms a call right after
// ONNX Runtime's runs against 2.6-3.9 ms with ONNX Runtime idle, and 3.8-4.1 ms after 100 ms (ONNX Runtime itself
// 3.1-3.5 ms either way; a /tmp harness over the public API, 15 rounds each).
// --profile adds where a training step's time goes, per op and shape (Ops.Profiler).
// Usage: dotnet run -c Release --project benchmarks/Igcv2.CpuBench [-- --networks c64,c416,digits --runs 9 --threads 2 --warmup 20 --pause 100 --no-train --no-inference --profile]
// --warmup: inference calls of each contender before timing (20: past tiered JIT's first tiers; 0-2 shows cold calls).
string networks = "c64,c416,digits";
int runs = 9, threads = 2, warmup = 20, pause = 100;
bool train = true, inference = true, profile = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--networks": networks = args[++i]; break;
        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--no-train": train = false; break;
        case "--no-inference": inference = false; break;
        case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--pause": pause = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--profile": profile = true; break;
        default: Console.Error.WriteLine($"Unknown option {args[i]}: use --networks c64,c416,digits --runs N --threads N --warmup N --pause MS --no-train --no-inference --profile"); return 2;
    }
}
if (threads != Environment.ProcessorCount)
{
    Console.Error.WriteLine($"note: ours uses all {Environment.ProcessorCount} cores (Parallel.For); ONNX Runtime gets {threads} intra-op threads.");
}

using var device = Device.Create(DeviceKind.Cpu);
// The fraction is read against the widest vectors the kernels take: Vector512 where the CPU runs it natively (the
// tiles' default there; DOTNET_PreferredVectorBitWidth=256 turns both off), else Vector256.
var peak256 = PeakGflops(Environment.ProcessorCount);
var peak = Vector512.IsHardwareAccelerated ? PeakGflops(Environment.ProcessorCount, wide: true) : peak256;
Console.WriteLine($"Igcv2 CPU side-by-side, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, ONNX Runtime {OrtEnv.Instance().GetVersionString()} with {threads} threads, {runs} rounds, {pause} ms pauses");
Console.WriteLine($"measured FMA peak: {peak256:F0} GFLOP/s over Vector256 FMA chains on every core"
    + (Vector512.IsHardwareAccelerated ? $", {peak:F0} over Vector512 (AVX-512: the fused tiles' width here, the peak the fractions below are of)" : " (the fused tiles' width here)"));
Console.WriteLine();
Console.WriteLine("| network | batch | fused ms | unfused ms | ORT ms | fused / ORT (throughput) | fused / unfused | of FMA peak |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
var trainRows = new List<string>();
var inferenceProfiles = new Dictionary<string, string>();
foreach (var key in networks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
{
    var network = BenchNetwork.Find(key);
    foreach (var batch in inference ? new[] { 64, 1 } : [])
    {
        using var model = network.Create(device, batch, 0);
        RandomBatchNorm(model, 1);
        var onnx = Path.Combine(Path.GetTempPath(), $"igcv2-cpubench-{network.ClassName}-{Environment.ProcessId}.onnx");
        Onnx.Save(model, onnx);
        try
        {
            var values = Random(batch * network.InputChannels * network.InputSize * network.InputSize, 2);
            using var x = device.Allocate(batch, network.InputChannels, network.InputSize, network.InputSize);
            x.CopyFrom(values);
            using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(onnx, options);
            var input = session.InputMetadata.First().Key;
            var feeds = new[] { NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(values, [batch, network.InputChannels, network.InputSize, network.InputSize])) };
            var setFused = (Action<bool>)Delegate.CreateDelegate(typeof(Action<bool>), model, model.GetType().GetProperty("FusedInference")!.SetMethod!);
            void Ours(bool on)
            {
                setFused(on);
                model.Forward(x, training: false);
            }
            var times = Rounds(runs, warmup, () => Ours(true), () => Ours(false), () => session.Run(feeds).Dispose());
            var flops = 2.0 * network.Plan.MultiplyAdds * batch;
            Console.WriteLine(Invariant($"| {network.ClassName} | {batch} | {times[0]:F2} | {times[1]:F2} | {times[2]:F2} | {times[2] / times[0]:F2}x | {times[1] / times[0]:F2}x | {flops / (times[0] / 1000) / 1e9 / peak:P1} |"));
            // Image by image, every core runs blocks at once, so the FoldedBlock rows add up the cores' time.
            var byImage = batch >= Igcv2.Kernels.Fused.FoldedBlock.ImagesPerCore * Environment.ProcessorCount;
            if (profile)
            {
                const int profiled = 5;
                var watch = Stopwatch.StartNew();
                var profiler = Profile(device, profiled, () => Ours(true));
                var wall = watch.Elapsed.TotalMilliseconds / profiled;
                inferenceProfiles.Add(Invariant($"{network.ClassName}, batch {batch}: {wall:F2} ms a forward with the profiler on{(byImage ? "; image by image, so block rows are core-ms, summed over the cores" : "")}"),
                    profiler.Format(top: 12, perCallOf: profiled));
            }
        }
        finally
        {
            File.Delete(onnx);
        }
    }
    if (train)
    {
        const int batch = 64;
        // A twin that keeps every convolution's output (Recompute = false, "c64-kept") trains in the same rounds, so the
        // time recomputing costs and the memory it saves are read side by side.
        var twin = BenchNetwork.All.FirstOrDefault(n => n.Key == network.Key + "-kept");
        using var x = device.Allocate(batch, network.InputChannels, network.InputSize, network.InputSize);
        x.CopyFrom(Random((int)x.Length, 3));
        using var labels = device.AllocateLabels(batch);
        labels.CopyFrom(Enumerable.Range(0, batch).Select(i => i % network.Classes).ToArray());
        using var gradLogits = device.Allocate(batch, network.Classes);
        var trainees = new List<Trainee>();
        try
        {
            foreach (var contender in twin is null ? [network] : new[] { network, twin })
            {
                // Each model's resident growth: created, then ten warm-up steps (the kernels' loops must reach tiered
                // JIT's optimised code first: a 4-step run measured 3x the step), so every buffer it touches is in.
                GC.Collect();
                var before = Environment.WorkingSet;
                var trainee = new Trainee(contender, contender.Create(device, batch, 0), x, labels, gradLogits);
                trainees.Add(trainee);
                for (var w = 0; w < 10; w++) trainee.Step();
                GC.Collect();
                trainee.Grown = (Environment.WorkingSet - before) / (1024.0 * 1024.0);
            }
            var steps = Rounds(Math.Max(5, runs), 0, trainees.Select(t => (Action)t.Step).ToArray());
            if (profile)
            {
                const int profiled = 5;
                var watch = Stopwatch.StartNew();
                var profiler = Profile(device, profiled, trainees[0].Step);
                Console.WriteLine();
                Console.WriteLine(Invariant($"Where a {network.ClassName} training step (batch {batch}) goes: {watch.Elapsed.TotalMilliseconds / profiled:F1} ms a step, {profiler.Total.TotalMilliseconds / profiled:F1} ms of it in ops, over {profiled} steps"));
                Console.WriteLine();
                Console.Write(profiler.Format(top: 20, perCallOf: profiled));
            }
            for (var t = 0; t < trainees.Count; t++)
            {
                var versus = t == 0 ? "" : Invariant($" (recomputing: {steps[0] / steps[t]:F2}x the time, {trainees[0].Grown / trainees[t].Grown:F2}x the memory)");
                trainRows.Add(Invariant($"| {trainees[t].Network.ClassName}{versus} | {batch} | {steps[t]:F1} | {batch / (steps[t] / 1000):F0} | {trainees[t].Grown:F0} |"));
            }
        }
        finally
        {
            foreach (var t in trainees) t.Dispose();
        }
    }
}
foreach (var (name, table) in inferenceProfiles)
{
    Console.WriteLine();
    Console.WriteLine($"Where fused inference ({name}) goes, per forward:");
    Console.WriteLine();
    Console.Write(table);
}
if (trainRows.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine("| network | batch | training step ms (forward, loss, backward, SGD) | images/s | resident growth MiB |");
    Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
    foreach (var row in trainRows) Console.WriteLine(row);
}
return 0;

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);


// The ops of `runs` calls of an already warm action, recorded by a profiler set for those calls only.
static OpProfiler Profile(Device device, int runs, Action action)
{
    var profiler = new OpProfiler();
    device.Ops.Profiler = profiler;
    for (var r = 0; r < runs; r++) action();
    device.Ops.Profiler = null;
    return profiler;
}

// Median milliseconds of each contender over the rounds; every round runs each once, in turn.
double[] Rounds(int rounds, int warmup, params Action[] contenders)
{
    const int CallsPerRound = 3;
    foreach (var c in contenders) for (var w = 0; w < warmup; w++) c();
    var times = contenders.Select(_ => new double[rounds]).ToArray();
    for (var r = 0; r < rounds; r++)
    {
        for (var c = 0; c < contenders.Length; c++)
        {
            // A pause first, so that the last contender's threads (ONNX Runtime's spin after a run) are parked and
            // take no core from this one; then three calls back to back, each contender with its own threads warm.
            Thread.Sleep(pause);
            var watch = Stopwatch.StartNew();
            for (var call = 0; call < CallsPerRound; call++) contenders[c]();
            times[c][r] = watch.Elapsed.TotalMilliseconds / CallsPerRound;
        }
    }
    return times.Select(t => { Array.Sort(t); return t[t.Length / 2]; }).ToArray();
}

static float[] Random(int count, int seed)
{
    var random = new Random(seed);
    return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}

// BN away from its initial identity, so that folding has work to do and ORT cannot skip it.
static void RandomBatchNorm(IModel model, int seed)
{
    var random = new Random(seed);
    foreach (var p in model.Parameters.Concat(model.Buffers))
    {
        Func<float>? next = p.Kind switch
        {
            ParameterKind.BatchNormGamma or ParameterKind.RunningVariance => () => 0.5f + (float)random.NextDouble(),
            ParameterKind.BatchNormBeta or ParameterKind.RunningMean => () => 0.2f * ((float)random.NextDouble() - 0.5f),
            _ => null,
        };
        if (next is not null) p.SetValues(Enumerable.Range(0, (int)p.Length).Select(_ => next()).ToArray());
    }
}

// GFLOP/s of independent FMA chains on every core, over Vector256 or (AVX-512) Vector512: the ceilings the fraction is read against.
static double PeakGflops(int cores, bool wide = false)
{
    const long iterations = 20_000_000;
    double best = 0;
    for (var attempt = 0; attempt < 3; attempt++)
    {
        var watch = Stopwatch.StartNew();
        Parallel.For(0, cores, _ => Sink(wide ? FmaChains512(iterations).GetLower() : FmaChains(iterations)));
        var seconds = watch.Elapsed.TotalSeconds;
        best = Math.Max(best, cores * iterations * 10 * (wide ? 16 : 8) * 2 / seconds / 1e9);
    }
    return best;
}

static Vector512<float> FmaChains512(long iterations)
{
    var m = Vector512.Create(0.999999f);
    var c = Vector512.Create(1e-7f);
    Vector512<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m;
    for (long i = 0; i < iterations; i++)
    {
        a0 = Vector512.MultiplyAddEstimate(a0, m, c); a1 = Vector512.MultiplyAddEstimate(a1, m, c);
        a2 = Vector512.MultiplyAddEstimate(a2, m, c); a3 = Vector512.MultiplyAddEstimate(a3, m, c);
        a4 = Vector512.MultiplyAddEstimate(a4, m, c); a5 = Vector512.MultiplyAddEstimate(a5, m, c);
        a6 = Vector512.MultiplyAddEstimate(a6, m, c); a7 = Vector512.MultiplyAddEstimate(a7, m, c);
        a8 = Vector512.MultiplyAddEstimate(a8, m, c); a9 = Vector512.MultiplyAddEstimate(a9, m, c);
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;
}

static Vector256<float> FmaChains(long iterations)
{
    var m = Vector256.Create(0.999999f);
    var c = Vector256.Create(1e-7f);
    Vector256<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m;
    for (long i = 0; i < iterations; i++)
    {
        a0 = Vector256.MultiplyAddEstimate(a0, m, c); a1 = Vector256.MultiplyAddEstimate(a1, m, c);
        a2 = Vector256.MultiplyAddEstimate(a2, m, c); a3 = Vector256.MultiplyAddEstimate(a3, m, c);
        a4 = Vector256.MultiplyAddEstimate(a4, m, c); a5 = Vector256.MultiplyAddEstimate(a5, m, c);
        a6 = Vector256.MultiplyAddEstimate(a6, m, c); a7 = Vector256.MultiplyAddEstimate(a7, m, c);
        a8 = Vector256.MultiplyAddEstimate(a8, m, c); a9 = Vector256.MultiplyAddEstimate(a9, m, c);
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;
}

static void Sink(Vector256<float> v)
{
    if (v[0] == 12345f) Console.Write("");
}

/// <summary>A model training on one fixed batch with plain SGD: one <see cref="Step"/> is forward, loss, backward and the update.</summary>
sealed class Trainee(BenchNetwork network, IModel model, Igcv2.Tensor x, Labels labels, Igcv2.Tensor gradLogits) : IDisposable
{
    private readonly Sgd sgd = new(model.Parameters, new SgdOptions());

    public BenchNetwork Network { get; } = network;

    /// <summary>Resident growth in MiB from before the model was created to after its warm-up steps.</summary>
    public double Grown { get; set; }

    public void Step()
    {
        var logits = model.Forward(x, training: true);
        x.Device.Ops.SoftmaxCrossEntropy(logits, labels, gradLogits, x.Dim(0));
        model.Backward(gradLogits);
        sgd.Step(1e-3);
    }

    public void Dispose()
    {
        sgd.Dispose();
        model.Dispose();
    }
}
