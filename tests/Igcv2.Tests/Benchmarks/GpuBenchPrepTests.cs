using System.Diagnostics;
using System.Text.Json.Nodes;
using Igcv2.GpuBench;

namespace Igcv2.Tests.Benchmarks;

/// <summary>
/// Runs once for the class: the GPU benchmark's correctness check and export on the CPU (no timings), as
/// benchmarks/gpu/run-on-device.sh runs them on CUDA.
/// </summary>
public sealed class GpuBenchRun : IDisposable
{
    public GpuBenchRun()
    {
        Directory = Path.Combine(Path.GetTempPath(), "igcv2-gpubench-" + Guid.NewGuid().ToString("N"));
        var log = new StringWriter();
        ExitCode = GpuBenchApp.Run(["--device", "cpu", "--networks", "check", "--no-timing", "--out", Directory], log);
        Log = log.ToString();
    }

    public string Directory { get; }

    public string ExportDirectory => Path.Combine(Directory, "export");

    public int ExitCode { get; }

    public string Log { get; }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

[Trait("Category", "Gpu-prep")]
public sealed class GpuBenchPrepTests(GpuBenchRun run) : IClassFixture<GpuBenchRun>
{
    private static readonly BenchNetwork Check = BenchNetwork.Find("check");

    [Fact]
    public void Correctness_check_runs_on_the_cpu_device_and_passes()
    {
        Assert.True(run.ExitCode == 0, run.Log);
        Assert.Contains("PASS", run.Log, StringComparison.Ordinal);
        var check = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Directory, "results.json")))!["check"]!;
        Assert.True(check["passed"]!.GetValue<bool>());
        Assert.Contains("Accelerator", check["tested"]!.GetValue<string>(), StringComparison.Ordinal);

        // Logits (training, inference), loss, loss gradient, then every parameter twice (gradient, after SGD) and every buffer.
        using var device = Device.Create(DeviceKind.Cpu);
        using var model = new CheckNet(device, 1);
        Assert.Equal(4 + 2 * model.Parameters.Count + model.Buffers.Count, check["tensors"]!.GetValue<int>());
        var csv = File.ReadAllLines(Path.Combine(run.Directory, "check.csv"));
        Assert.Equal(check["tensors"]!.GetValue<int>() + 1, csv.Length);
    }

    [Fact]
    public void Correctness_check_detects_a_different_network()
    {
        // The check must be able to fail: the device under test gets other weights (the next seed) than the reference.
        using var device = Device.Create(DeviceKind.Cpu);
        var (rows, _, _) = CorrectnessCheck.Run(device, Check with { Create = (d, b, s) => new CheckNet(d, b, ReferenceEquals(d, device) ? s + 1 : s) });
        Assert.False(CorrectnessCheck.Passed(rows));
        Assert.True(rows.Single(r => r.Name == "logits (training forward)").Relative > 1e-2);
    }

    [Fact]
    public void Exported_weights_load_back_and_reproduce_the_reference_logits()
    {
        using var device = Device.Create(DeviceKind.Cpu);
        var io = SafeTensors.Load(PlanExport.ReferencePath(run.ExportDirectory, Check));
        var (inputShape, input) = io.Tensors["input"];
        var (_, expected) = io.Tensors["logits"];
        using var model = new CheckNet(device, inputShape[0], seed: 12345);
        model.LoadWeights(PlanExport.WeightsPath(run.ExportDirectory, Check));
        using var x = device.Allocate(inputShape);
        x.CopyFrom(input);
        var logits = model.Forward(x, training: false).ToArray();
        var (maxAbs, scale) = (expected.Zip(logits, (a, b) => Math.Abs(a - b)).Max(), expected.Max(Math.Abs));
        Assert.True(maxAbs <= 1e-6 * scale, $"max |diff| {maxAbs} at scale {scale}");
    }

    [Fact]
    public void Plan_json_names_every_tensor_of_the_model_with_its_shape_and_the_plan_layout()
    {
        var plan = JsonNode.Parse(File.ReadAllText(PlanExport.PlanPath(run.ExportDirectory, Check)))!;
        Assert.Equal("igcv2.plan", plan["format"]!.GetValue<string>());
        using var device = Device.Create(DeviceKind.Cpu);
        using var model = new CheckNet(device, 1);
        var modelTensors = model.Parameters.Concat(model.Buffers).ToDictionary(p => p.Name, p => p.Shape);

        var planTensors = new Dictionary<string, int[]>();
        var steps = plan["steps"]!.AsArray().Select(s => s!).ToList();
        foreach (var s in steps)
        {
            var name = s["name"]?.GetValue<string>();
            switch (s["op"]!.GetValue<string>())
            {
                case "conv":
                    int groups = s["groups"]!.GetValue<int>(), k = s["kernel"]!.GetValue<int>();
                    planTensors[name + ".weight"] = [s["out_channels"]!.GetValue<int>(), s["in_channels"]!.GetValue<int>() / groups, k, k];
                    break;
                case "bn":
                    foreach (var suffix in new[] { "weight", "bias", "running_mean", "running_var" }) planTensors[$"{name}.{suffix}"] = [s["channels"]!.GetValue<int>()];
                    break;
                case "linear":
                    planTensors[name + ".weight"] = [s["out_features"]!.GetValue<int>(), s["in_features"]!.GetValue<int>()];
                    planTensors[name + ".bias"] = [s["out_features"]!.GetValue<int>()];
                    break;
            }
        }
        Assert.Equal(modelTensors.Keys.Order(), planTensors.Keys.Order());
        foreach (var (name, shape) in modelTensors) Assert.True(shape.SequenceEqual(planTensors[name]), name);

        var layout = CheckNet.Plan;
        Assert.Equal(layout.Blocks.Sum(b => b.Permutations.Count(p => !p.IsIdentity)), steps.Count(s => s["op"]!.GetValue<string>() == "shuffle"));
        Assert.Equal(layout.Blocks.Count(b => b.HasSkip), steps.Count(s => s["op"]!.GetValue<string>() == "add"));
        // The Figure 5 ReLU after BN_1 in the Nonlinear stage: one per block there, plus one per block and the stem.
        Assert.Equal(1 + layout.Blocks.Count + layout.Blocks.Count(b => b.Activations[0] == Igcv2.Design.Activation.Relu), steps.Count(s => s["op"]!.GetValue<string>() == "relu"));
    }

    [Fact]
    public async Task Python_side_reads_the_export_and_its_plain_forward_matches_our_logits()
    {
        // benchmarks/gpu/igcv2_torch.py's torch-free self-test: safetensors reader, plan validation, and a pure-Python
        // forward of the exported CheckNet against our logits. Needs python3 (any 3.8+); no torch.
        var script = Path.Combine(RepoRoot(), "benchmarks", "gpu", "igcv2_torch.py");
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, "--self-test", "--export-dir", run.ExportDirectory }) start.ArgumentList.Add(a);
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return; // no python3 on this machine: the C# tests above still cover the export.
        }
        using (process)
        {
            var stdout = process!.StandardOutput.ReadToEndAsync();
            var stderr = await process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, await stdout + stderr);
            Assert.Contains("test_python_forward_matches_our_logits", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("skipped", stderr, StringComparison.Ordinal);
        }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Igcv2Gen.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("no Igcv2Gen.sln above " + AppContext.BaseDirectory);
    }
}
