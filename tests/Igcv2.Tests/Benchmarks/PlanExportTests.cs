using System.Diagnostics;
using System.Text.Json.Nodes;
using Igcv2.Design;
using Igcv2.GpuBench;
using Igcv2.Tests.Export;

namespace Igcv2.Tests.Benchmarks;

/// <summary>
/// The GPU kit's plan export reads the lowered steps, so it agrees with the generated model and the ONNX export on
/// what used to drift: the projection shortcut and the grouped head.
/// </summary>
[Trait("Category", "Gpu-prep")]
public sealed class PlanExportTests
{
    private static readonly BenchNetwork ProjectionNet =
        new(nameof(ExportProjectionNet), nameof(ExportProjectionNet), ExportProjectionNet.Plan, (d, b, s) => new ExportProjectionNet(d, b, s));

    private static readonly BenchNetwork GroupedHeadNet =
        new(nameof(ExportGroupedHeadNet), nameof(ExportGroupedHeadNet), ExportGroupedHeadNet.Plan, (d, b, s) => new ExportGroupedHeadNet(d, b, s));

    public static TheoryData<string> Networks => new() { nameof(ExportProjectionNet), nameof(ExportGroupedHeadNet) };

    private static BenchNetwork Find(string name) => name == nameof(ExportProjectionNet) ? ProjectionNet : GroupedHeadNet;

    [Theory]
    [MemberData(nameof(Networks))]
    public void Plan_json_names_the_model_tensors_and_the_onnx_nodes_in_the_same_order(string network)
    {
        var bench = Find(network);
        var steps = PlanExport.ToJson(bench.ClassName, bench.Plan)["steps"]!.AsArray().Select(s => s!).ToList();
        using var device = Device.Create(DeviceKind.Cpu);
        using var model = bench.Create(device, 1, 0);

        var modelTensors = model.Parameters.Concat(model.Buffers).ToDictionary(p => p.Name, p => p.Shape);
        var planTensors = PlanTensors(steps);
        Assert.Equal(modelTensors.Keys.Order(), planTensors.Keys.Order());
        foreach (var (name, shape) in modelTensors) Assert.True(shape.SequenceEqual(planTensors[name]), name);

        // The same steps in the same order as the ONNX graph's nodes (which adds constants, the shuffles' reshapes and the
        // flatten; the grouped head's bias is its last Conv's B).
        var onnx = OnnxTestSupport.Parse(Onnx.ToBytes(model));
        var stepNames = steps.Where(s => s["op"]!.GetValue<string>() != "bias").Select(s => s["step"]!.GetValue<string>()).ToList();
        Assert.Equal(stepNames, onnx.Graph.Node.Select(n => n.Name).Where(stepNames.Contains));
        Assert.Equal(steps.Count(s => s["op"]!.GetValue<string>() == "conv"), onnx.Graph.Node.Count(n => n.OpType == "Conv"));
        Assert.Equal(steps.Count(s => s["op"]!.GetValue<string>() == "add"), onnx.Graph.Node.Count(n => n.OpType == "Add"));
        Assert.Equal(steps.Count(s => s["op"]!.GetValue<string>() == "bn"), onnx.Graph.Node.Count(n => n.OpType == "BatchNormalization"));

        if (network == nameof(ExportProjectionNet))
        {
            // The drift this replaces: the projection's conv and BN, then the add of its output.
            var shortcut = steps.Single(s => s["step"]!.GetValue<string>() == "stage2.block2.shortcut.bn");
            var add = steps.Single(s => s["op"]!.GetValue<string>() == "add" && s["step"]!.GetValue<string>() == "stage2.block2.add");
            Assert.Equal(shortcut["out"]!.GetValue<int>(), add["skip"]!.GetValue<int>());
            Assert.Equal(2, steps.Single(s => s["step"]!.GetValue<string>() == "stage2.block2.shortcut.conv")["stride"]!.GetValue<int>());
        }
        else
        {
            Assert.DoesNotContain(steps, s => s["op"]!.GetValue<string>() == "linear");
            Assert.Equal(["conv", "bn", "shuffle", "conv", "bias"], steps.SkipWhile(s => s["op"]!.GetValue<string>() != "global_avg_pool").Skip(1).Select(s => s["op"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Python_forward_of_the_exported_projection_and_grouped_head_nets_matches_the_generated_models()
    {
        var dir = Path.Combine(Path.GetTempPath(), "igcv2-planexport-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var device = Device.Create(DeviceKind.Cpu))
            {
                PlanExport.Write(device, ProjectionNet, dir);
                PlanExport.Write(device, GroupedHeadNet, dir);
            }
            var script = Path.Combine(RepoRoot(), "benchmarks", "gpu", "igcv2_torch.py");
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { script, "--self-test", "--export-dir", dir }) start.ArgumentList.Add(a);
            Process? process;
            try
            {
                process = Process.Start(start);
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return; // no python3 on this machine: the test above still checks the export against the model and ONNX.
            }
            using (process)
            {
                var stdout = process!.StandardOutput.ReadToEndAsync();
                var stderr = await process.StandardError.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                await process.WaitForExitAsync(timeout.Token);
                Assert.True(process.ExitCode == 0, await stdout + stderr);
                Assert.Contains($"checked: {nameof(ExportGroupedHeadNet)}, {nameof(ExportProjectionNet)}", stderr, StringComparison.Ordinal);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>name -> shape of every tensor the plan's steps read, as the python script derives them.</summary>
    internal static Dictionary<string, int[]> PlanTensors(IEnumerable<JsonNode> steps)
    {
        var tensors = new Dictionary<string, int[]>();
        foreach (var s in steps)
        {
            var name = s["name"]?.GetValue<string>();
            switch (s["op"]!.GetValue<string>())
            {
                case "conv":
                    int groups = s["groups"]!.GetValue<int>(), k = s["kernel"]!.GetValue<int>();
                    tensors[name + ".weight"] = [s["out_channels"]!.GetValue<int>(), s["in_channels"]!.GetValue<int>() / groups, k, k];
                    break;
                case "bn":
                    foreach (var suffix in new[] { "weight", "bias", "running_mean", "running_var" }) tensors[$"{name}.{suffix}"] = [s["channels"]!.GetValue<int>()];
                    break;
                case "linear":
                    tensors[name + ".weight"] = [s["out_features"]!.GetValue<int>(), s["in_features"]!.GetValue<int>()];
                    tensors[name + ".bias"] = [s["out_features"]!.GetValue<int>()];
                    break;
                case "bias":
                    tensors[name + ".bias"] = [s["channels"]!.GetValue<int>()];
                    break;
            }
        }
        return tensors;
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
