using System.Diagnostics;
using System.Globalization;
using Igcv2;
using Igcv2.Data;
using Igcv2.Distributed;
using Igcv2.Training;

// One process of a multi-process test. Trains MpiTestNet on a synthetic data set with the library's Trainer and
// DataLoader under the communicator the environment gives (mpiexec: MPI; alone: one process), then writes what
// the tests compare: this process's gradient arena, weights and BN statistics (rank<r>.bin), and on process 0 the
// per-step losses (losses.txt).
//
//   Igcv2.MpiHost --out DIR [--steps S] [--batch N] [--lr X] [--bn sync|local] [--epochs E] [--checkpoint FILE [--resume 1]]
//                 [--kill-rank R --kill-step K] [--throw-rank R --throw-step K] [--short-rank R]
if (args.Length > 0 && args[0] == "allreduce-bench") return AllreduceBench(args[1..]);
if (args.Length > 0 && args[0] == "parameter-count") return ParameterCounts(args[1..]);
var options = Options.Parse(args);
using var communicator = Communicator.FromEnvironment();
try
{
    Run(options, communicator);
    return 0;
}
catch (Exception e) when (communicator.Size > 1)
{
    communicator.Abort(3, $"{e.GetType().Name}: {e.Message}");
    return 3;
}

static void Run(Options o, ICommunicator communicator)
{
    var dataset = MpiTestNet.SyntheticData(o.Batch * o.Steps, seed: 5);
    var loader = new DataLoader(dataset, o.Batch, new DataLoaderOptions { Seed = 3, Prefetch = 0, Rank = communicator.Rank, Processes = communicator.Size });
    using var device = Device.Create(DeviceKind.Cpu);
    using var model = new MpiTestNet(device, loader.LocalBatchSize, seed: 1);
    var trainerOptions = new TrainerOptions
    {
        Epochs = o.Epochs,
        CheckpointPath = o.Checkpoint,
        Schedule = new ConstantSchedule(o.LearningRate),
        Seed = 3,
        BatchNorm = o.BatchNorm == "local" ? BatchNormMode.Local : BatchNormMode.Synchronized,
    };
    using var trainer = new Trainer(model, LossFunction.From(device.Ops.SoftmaxCrossEntropy), trainerOptions, communicator);
    var losses = new LossLog();
    trainer.Observe(losses);
    if (o.Resume) trainer.LoadCheckpoint(o.Checkpoint ?? throw new ArgumentException("--resume needs --checkpoint"));
    trainer.Run(epoch => Batches(loader, epoch, o, communicator.Rank), loader.BatchesPerEpoch);

    Directory.CreateDirectory(o.Output);
    using (var file = new BinaryWriter(File.Create(Path.Combine(o.Output, $"rank{communicator.Rank}.bin"))))
    {
        foreach (var t in new[] { model.Arena!.Gradients, model.Arena.Values }.Concat(model.Buffers.Select(b => b.Value)))
        {
            foreach (var v in t.ToArray()) file.Write(v);
        }
    }
    if (communicator.Rank == 0)
    {
        File.WriteAllLines(Path.Combine(o.Output, "losses.txt"), losses.Losses.Select(l => l.ToString("R", CultureInfo.InvariantCulture)));
        var reducer = trainer.GradientReducer;
        File.WriteAllText(Path.Combine(o.Output, "summary.txt"), string.Create(CultureInfo.InvariantCulture,
            $"processes={communicator.Size} description={communicator.Description} allreduce_calls={reducer?.Calls ?? 0} allreduce_bytes={reducer?.Bytes ?? 0} allreduce_seconds={reducer?.Seconds ?? 0:R}\n"));
    }
}

// allreduce-bench NAME=COUNT ...: median time of an in-place float allreduce of COUNT elements (30 after 5 warm-ups).
static int AllreduceBench(string[] sizes)
{
    using var communicator = Communicator.FromEnvironment();
    foreach (var item in sizes)
    {
        var (name, count) = (item.Split('=')[0], int.Parse(item.Split('=')[1], CultureInfo.InvariantCulture));
        var values = GC.AllocateArray<float>(count, pinned: true);
        var times = new List<double>();
        for (var i = 0; i < 35; i++)
        {
            communicator.Barrier();
            var clock = Stopwatch.StartNew();
            communicator.AllreduceSum(values);
            if (i >= 5) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        if (communicator.Rank == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {count} floats, {count * 4.0 / 1e6:0.000} MB per process, median {times[times.Count / 2]:0.000} ms, min {times[0]:0.000} ms, {communicator.Description}"));
        }
    }
    return 0;
}

// parameter-count DLL TYPE ...: the generated ParameterCount of networks declared elsewhere (for allreduce-bench).
static int ParameterCounts(string[] args)
{
    var assembly = System.Reflection.Assembly.LoadFrom(args[0]);
    foreach (var name in args[1..])
    {
        var type = assembly.GetTypes().Single(t => t.Name == name);
        Console.WriteLine($"{name}={type.GetField("ParameterCount")!.GetRawConstantValue()}");
    }
    return 0;
}

// The loader's batches, with the faults a test asks for injected on one process.
static IEnumerable<Batch> Batches(DataLoader loader, int epoch, Options o, int rank)
{
    var step = 0;
    foreach (var batch in loader.Epoch(epoch))
    {
        if (rank == o.ShortRank && step == loader.BatchesPerEpoch - 1) yield break;
        if (rank == o.KillRank && step == o.KillStep)
        {
            Console.Error.WriteLine($"process {rank}: killing itself (SIGKILL) before step {step}");
            Process.GetCurrentProcess().Kill();
            Thread.Sleep(Timeout.Infinite);
        }
        if (rank == o.ThrowRank && step == o.ThrowStep) throw new InvalidDataException($"injected failure before step {step}");
        yield return batch;
        step++;
    }
}

internal sealed class LossLog : ITrainingObserver
{
    public List<float> Losses { get; } = [];

    public void StepCompleted(in StepReport step) => Losses.Add(step.Loss);
}

internal sealed record Options(string Output, int Steps, int Batch, double LearningRate, string BatchNorm, int KillRank, int KillStep, int ThrowRank, int ThrowStep, int ShortRank,
    int Epochs, string? Checkpoint, bool Resume)
{
    public static Options Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2) map[args[i].TrimStart('-')] = args[i + 1];
        int Int(string key, int fallback) => map.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new Options(
            map.TryGetValue("out", out var output) ? output : throw new ArgumentException("--out DIR is required"),
            Int("steps", 4), Int("batch", 11),
            map.TryGetValue("lr", out var lr) ? double.Parse(lr, CultureInfo.InvariantCulture) : 0.1,
            map.GetValueOrDefault("bn", "sync"),
            Int("kill-rank", -1), Int("kill-step", -1), Int("throw-rank", -1), Int("throw-step", -1), Int("short-rank", -1),
            Int("epochs", 1), map.GetValueOrDefault("checkpoint"), Int("resume", 0) == 1);
    }
}
