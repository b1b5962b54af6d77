using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Igcv2.Kernels;

namespace Igcv2.GpuBench;

/// <summary>The benchmark's settings; <see cref="Parse"/> reads them from the command line.</summary>
public sealed record BenchOptions
{
    public DeviceKind Device { get; init; } = DeviceKind.Auto;
    public List<string> Networks { get; init; } = [];
    public List<int> Batches { get; init; } = [];
    public int Warmup { get; init; } = -1;
    public int Runs { get; init; } = -1;
    public string Output { get; init; } = "bench-results";
    public bool Check { get; init; } = true;
    public bool Export { get; init; } = true;
    public bool Timing { get; init; } = true;
    public bool Onnx { get; init; }
    public string? Profile { get; init; }
    public bool Quick { get; init; }

    public const string Usage = """
        Igcv2.GpuBench: whole-model timings (inference forward, training step = forward + softmax CE + backward + SGD),
        images/s and peak device memory; a CUDA-vs-CPU correctness check; weights/plan export for benchmarks/gpu/igcv2_torch.py.
          --device cpu|cuda|auto   the device to time (default auto: CUDA when present)
          --networks c64,c416,digits   (default: all three on CUDA, c64,digits on the CPU)
          --batches 64,256         (default 64,256 on CUDA, 64 on the CPU)
          --runs N --warmup N      timed runs (median reported) and untimed warm-up runs
          --out DIR                results (results.json, results.csv, check.csv, profile.csv) and export/ (default bench-results)
          --profile NET            per-op-kind time of one training step of NET at the first batch size
          --onnx                   also write export/<Net>.onnx (for ONNX Runtime)
          --no-check --no-export --no-timing
          --quick                  smoke run: digits at batch 16, 2 runs (tests, the published binary on a CPU)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            o = args[i] switch
            {
                "--device" => o with { Device = Value().ToLowerInvariant() switch { "cpu" => DeviceKind.Cpu, "cuda" or "gpu" => DeviceKind.Cuda, "auto" => DeviceKind.Auto, var v => throw new ArgumentException($"--device {v}: use cpu, cuda or auto.") } },
                "--networks" => o with { Networks = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries)] },
                "--batches" or "--batch" => o with { Batches = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))] },
                "--runs" => o with { Runs = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--warmup" => o with { Warmup = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--out" => o with { Output = Value() },
                "--profile" => o with { Profile = Value() },
                "--onnx" => o with { Onnx = true },
                "--no-check" => o with { Check = false },
                "--no-export" => o with { Export = false },
                "--no-timing" => o with { Timing = false },
                "--quick" => o with { Quick = true },
                var a => throw new ArgumentException($"Unknown argument '{a}'.\n{Usage}"),
            };
        }
        return o;
    }

    /// <summary>Fills what the command line left open from the device kind.</summary>
    public BenchOptions Resolve(DeviceKind kind)
    {
        var gpu = kind == DeviceKind.Cuda;
        return this with
        {
            Networks = Networks.Count > 0 ? Networks : Quick ? ["digits"] : gpu ? ["c64", "c416", "digits"] : ["c64", "digits"],
            Batches = Batches.Count > 0 ? Batches : Quick ? [16] : gpu ? [64, 256] : [64],
            Runs = Runs > 0 ? Runs : Quick ? 2 : gpu ? 20 : 5,
            Warmup = Warmup >= 0 ? Warmup : Quick ? 1 : gpu ? 5 : 2,
        };
    }
}

public static class GpuBenchApp
{
    /// <summary>Runs the benchmark; returns the exit code (2 when the correctness check fails).</summary>
    public static int Run(string[] args, TextWriter? output = null)
    {
        var log = output ?? Console.Out;
        BenchOptions options;
        try
        {
            if (args.Contains("--help") || args.Contains("-h"))
            {
                log.WriteLine(BenchOptions.Usage);
                return 0;
            }
            options = BenchOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            log.WriteLine(e.Message);
            return 1;
        }

        using var device = options.Device == DeviceKind.Cpu ? Device.Create(DeviceKind.Cpu, CpuLauncher.HostParallel) : Device.Create(options.Device);
        options = options.Resolve(device.Kind);
        var networks = options.Networks.Select(BenchNetwork.Find).ToList();
        Directory.CreateDirectory(options.Output);
        var exportDir = Path.Combine(options.Output, "export");
        log.WriteLine($"Igcv2.GpuBench on {device} | {Environment.ProcessorCount} cores | .NET {Environment.Version} | {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        log.WriteLine($"networks {string.Join(",", networks.Select(n => n.Key))} | batches {string.Join(",", options.Batches)} | {options.Warmup} warm-up + {options.Runs} timed runs (median) | out {Path.GetFullPath(options.Output)}");
        log.WriteLine();

        var json = new JsonObject
        {
            ["device"] = device.ToString(),
            ["device_kind"] = device.Kind.ToString(),
            ["device_name"] = device.Name,
            ["cores"] = Environment.ProcessorCount,
            ["dotnet"] = Environment.Version.ToString(),
            ["utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            ["warmup"] = options.Warmup,
            ["runs"] = options.Runs,
            ["memory"] = MemoryProbe.Describe(device.Kind),
        };
        var exitCode = 0;

        if (options.Check)
        {
            // On the CPU the device under test is ILGPU's CPU accelerator: the kernel source CUDA runs.
            using var emulated = device.IsCpu ? Device.Create(DeviceKind.Cpu, CpuLauncher.Accelerator) : null;
            var watch = Stopwatch.StartNew();
            var (rows, reference, tested) = CorrectnessCheck.Run(emulated ?? device, BenchNetwork.Find("check"));
            var passed = CorrectnessCheck.Passed(rows);
            log.WriteLine($"Correctness: {tested} against {reference}, {nameof(CheckNet)} (batch 4), same seed and input; error = max|a - b| / max(max|ref|, {CorrectnessCheck.ScaleFloor:0e0} x its category's largest) per tensor, tolerance {CorrectnessCheck.Tolerance:0e0} ({watch.Elapsed.TotalSeconds:F1} s)");
            var summary = CorrectnessCheck.Summary(rows).ToList();
            var width = Math.Max(40, summary.Max(r => r.Name.Length));
            log.WriteLine($"  {"tensor".PadRight(width)}  {"elements",9}  {"max abs",10}  {"rel error",10}");
            foreach (var r in summary) log.WriteLine($"  {r.Name.PadRight(width)}  {r.Elements,9}  {r.MaxAbs,10:0.00e+00}  {r.Relative,10:0.00e+00}");
            log.WriteLine($"  {rows.Count} tensors compared: {(passed ? "PASS" : "FAIL")}");
            log.WriteLine();
            WriteCsv(Path.Combine(options.Output, "check.csv"), ["tensor", "category", "elements", "max_abs", "reference_max", "rel_error"],
                rows.Select(r => new object[] { r.Name, r.Category, r.Elements, r.MaxAbs, r.ReferenceMax, r.Relative }));
            json["check"] = new JsonObject
            {
                ["reference"] = reference,
                ["tested"] = tested,
                ["network"] = nameof(CheckNet),
                ["tensors"] = rows.Count,
                ["max_rel_error"] = rows.Max(r => r.Relative),
                ["tolerance"] = CorrectnessCheck.Tolerance,
                ["passed"] = passed,
            };
            if (!passed) exitCode = 2;
        }

        if (options.Export)
        {
            var watch = Stopwatch.StartNew();
            foreach (var network in networks)
            {
                PlanExport.Write(device, network, exportDir);
                if (options.Onnx) Onnx.Save(network.Create(device, 1, 0), Path.Combine(exportDir, network.ClassName + ".onnx"));
            }
            log.WriteLine($"Exported weights, plans and reference logits of {string.Join(", ", networks.Select(n => n.ClassName))} to {exportDir} ({watch.Elapsed.TotalSeconds:F1} s)");
            log.WriteLine();
        }

        if (options.Timing)
        {
            var results = new List<TimingResult>();
            log.WriteLine($"| {"network",-14} | {"batch",5} | {"inference ms",12} | {"inference img/s",15} | {"train step ms",13} | {"train img/s",11} | {"peak MiB",8} |");
            log.WriteLine($"|{new string('-', 16)}|{new string('-', 7)}|{new string('-', 14)}|{new string('-', 17)}|{new string('-', 15)}|{new string('-', 13)}|{new string('-', 10)}|");
            foreach (var network in networks)
            {
                foreach (var batch in options.Batches)
                {
                    var r = ModelTiming.Run(device, network, batch, options.Warmup, options.Runs);
                    results.Add(r);
                    log.WriteLine($"| {r.Network,-14} | {r.Batch,5} | {r.InferenceMs,12:F2} | {r.InferenceImagesPerSecond,15:F0} | {r.TrainStepMs,13:F2} | {r.TrainImagesPerSecond,11:F0} | {r.PeakMemoryMiB,8:F0} |");
                }
            }
            log.WriteLine($"(medians of {options.Runs} runs after {options.Warmup} warm-up runs, device synchronised before each clock read; peak MiB: {MemoryProbe.Describe(device.Kind)}, growth while the model lives)");
            log.WriteLine();
            json["results"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject
            {
                ["network"] = r.Network,
                ["batch"] = r.Batch,
                ["inference_ms"] = r.InferenceMs,
                ["inference_min_ms"] = r.InferenceMinMs,
                ["inference_images_per_s"] = r.InferenceImagesPerSecond,
                ["train_step_ms"] = r.TrainStepMs,
                ["train_step_min_ms"] = r.TrainStepMinMs,
                ["train_images_per_s"] = r.TrainImagesPerSecond,
                ["peak_memory_mib"] = double.IsFinite(r.PeakMemoryMiB) ? r.PeakMemoryMiB : null,
            })]);
            WriteCsv(Path.Combine(options.Output, "results.csv"),
                ["network", "device", "batch", "inference_ms", "inference_images_per_s", "train_step_ms", "train_images_per_s", "peak_memory_mib", "runs"],
                results.Select(r => new object[] { r.Network, r.Device, r.Batch, r.InferenceMs, r.InferenceImagesPerSecond, r.TrainStepMs, r.TrainImagesPerSecond, r.PeakMemoryMiB, r.Runs }));
        }

        if (options.Profile is { } profileKey)
        {
            var network = BenchNetwork.Find(profileKey);
            var batch = options.Batches[0];
            var rows = OpProfile.Run(device, network, batch, options.Warmup, options.Runs);
            var measured = ModelTiming.Run(device, network, batch, options.Warmup, options.Runs).TrainStepMs;
            var total = rows.Sum(r => r.Ms);
            log.WriteLine($"Where one training step of {network.ClassName} at batch {batch} goes (each distinct op call timed alone, median of {options.Runs}):");
            log.WriteLine($"| {"op kind",-38} | {"calls",5} | {"ms",9} | {"share",6} |");
            log.WriteLine($"|{new string('-', 40)}|{new string('-', 7)}|{new string('-', 11)}|{new string('-', 8)}|");
            foreach (var r in rows) log.WriteLine($"| {r.Kind,-38} | {r.Calls,5} | {r.Ms,9:F2} | {100 * r.Ms / total,5:F1}% |");
            log.WriteLine($"| {"sum of isolated ops",-38} | {rows.Sum(r => r.Calls),5} | {total,9:F2} | {100.0,5:F1}% |");
            log.WriteLine($"| {"measured training step",-38} | {"",5} | {measured,9:F2} | {100 * measured / total,5:F1}% |");
            log.WriteLine();
            WriteCsv(Path.Combine(options.Output, "profile.csv"), ["op_kind", "calls", "ms", "share"],
                rows.Select(r => new object[] { r.Kind, r.Calls, r.Ms, r.Ms / total }));
            json["profile"] = new JsonObject
            {
                ["network"] = network.ClassName,
                ["batch"] = batch,
                ["sum_ms"] = total,
                ["measured_step_ms"] = measured,
                ["ops"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject { ["kind"] = r.Kind, ["calls"] = r.Calls, ["ms"] = r.Ms })]),
            };
        }

        json["exported"] = options.Export ? new JsonArray([.. networks.Select(n => (JsonNode)n.ClassName)]) : new JsonArray();
        File.WriteAllText(Path.Combine(options.Output, "results.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return exitCode;
    }

    private static void WriteCsv(string path, string[] header, IEnumerable<object[]> rows)
    {
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', header));
        foreach (var row in rows)
        {
            text.AppendLine(string.Join(',', row.Select(v => v switch
            {
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => "\"" + (v?.ToString() ?? "").Replace("\"", "\"\"", StringComparison.Ordinal) + "\"",
            })));
        }
        File.WriteAllText(path, text.ToString());
    }
}
