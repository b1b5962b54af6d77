using Igcv2.Kernels;
using Igcv2.Training;

namespace Igcv2.GpuBench;

/// <summary>
/// One compared tensor: max |a - b| over its elements, the reference's largest magnitude, and the error relative
/// to max(that magnitude, 1e-3 x the largest in its category). The floor matters for tensors that are zero in
/// exact arithmetic and hold only rounding noise in both runs: the gradient of a BN shift that the next BN
/// removes, or the running mean after a bias-free convolution of a normalised input.
/// </summary>
public sealed record CheckRow(string Name, string Category, long Elements, double MaxAbs, double ReferenceMax, double Relative = double.NaN);

/// <summary>
/// The device under test against the CPU reference (the vectorised host kernels), same seed and same input:
/// a training-mode forward (logits), the loss and its gradient, a backward (every parameter's gradient), one SGD
/// step (every updated weight) and an inference-mode forward after it (logits through the updated running
/// statistics). When the device under test is the CPU too, it runs ILGPU's CPU accelerator, i.e. the kernel
/// source CUDA compiles, emulated: not a trivial self-comparison.
/// </summary>
public static class CorrectnessCheck
{
    /// <summary>float32 with different summation orders lands far below this (METHOD.md: under 1e-3).</summary>
    public const double Tolerance = 1e-3;

    public static (List<CheckRow> Rows, string Reference, string Tested) Run(Device tested, BenchNetwork network, int batch = 4, int seed = 11)
    {
        using var reference = Device.Create(DeviceKind.Cpu, CpuLauncher.HostParallel);
        var rows = new List<CheckRow>();
        using var a = network.Create(reference, batch, seed);
        using var b = network.Create(tested, batch, seed);
        int[] inputShape = [batch, network.InputChannels, network.InputSize, network.InputSize];
        using var xa = TensorUtil.Random(reference, seed + 1, inputShape);
        using var xb = TensorUtil.Random(tested, seed + 1, inputShape);
        using var labelsA = TensorUtil.Labels(reference, batch, network.Classes, seed + 2);
        using var labelsB = TensorUtil.Labels(tested, batch, network.Classes, seed + 2);
        using var gradA = reference.Allocate(batch, network.Classes);
        using var gradB = tested.Allocate(batch, network.Classes);

        var logitsA = a.Forward(xa, training: true).ToArray();
        var logitsB = b.Forward(xb, training: true).ToArray();
        rows.Add(Row("logits (training forward)", logitsB, logitsA));

        var lossA = reference.Ops.SoftmaxCrossEntropy(a.Forward(xa, training: true), labelsA, gradA, batch);
        var lossB = tested.Ops.SoftmaxCrossEntropy(b.Forward(xb, training: true), labelsB, gradB, batch);
        rows.Add(Row("loss", [lossB], [lossA]));
        rows.Add(Row("loss gradient (logits)", gradB.ToArray(), gradA.ToArray()));

        // Backward from the reference's loss gradient on both, so each gradient row measures the backward pass alone.
        gradB.CopyFrom(gradA.ToArray());
        a.Backward(gradA);
        b.Backward(gradB);
        for (var i = 0; i < a.Parameters.Count; i++)
        {
            rows.Add(Row(a.Parameters[i].Name + " (gradient)", b.Parameters[i].GetGradient(), a.Parameters[i].GetGradient()));
        }

        using (var sgdA = new Sgd(a.Parameters))
        using (var sgdB = new Sgd(b.Parameters))
        {
            sgdA.Step(0.05);
            sgdB.Step(0.05);
        }
        for (var i = 0; i < a.Parameters.Count; i++)
        {
            rows.Add(Row(a.Parameters[i].Name + " (after SGD)", b.Parameters[i].GetValues(), a.Parameters[i].GetValues()));
        }
        for (var i = 0; i < a.Buffers.Count; i++)
        {
            rows.Add(Row(a.Buffers[i].Name, b.Buffers[i].GetValues(), a.Buffers[i].GetValues()));
        }
        rows.Add(Row("logits (inference forward)", b.Forward(xb, training: false).ToArray(), a.Forward(xa, training: false).ToArray()));

        rows = WithRelativeErrors(rows);
        var testedName = tested.IsCpu ? $"{tested} via {tested.CpuLauncher}" : tested.ToString();
        return (rows, $"{reference} via {reference.CpuLauncher}", testedName);
    }

    /// <summary>
    /// The short table: the logits, the loss, and the worst gradient, updated weight and running statistic
    /// (every row goes to the CSV).
    /// </summary>
    public static IEnumerable<CheckRow> Summary(IReadOnlyList<CheckRow> rows)
    {
        foreach (var row in rows.Where(r => !r.Name.Contains('.'))) yield return row;
        foreach (var (suffix, label) in new[] { (" (gradient)", "worst parameter gradient"), (" (after SGD)", "worst weight after one SGD step"), (".running_", "worst BN running statistic") })
        {
            var worst = rows.Where(r => r.Name.Contains('.') && r.Name.Contains(suffix, StringComparison.Ordinal)).MaxBy(r => double.IsNaN(r.Relative) ? double.PositiveInfinity : r.Relative);
            if (worst is not null) yield return worst with { Name = $"{label}: {worst.Name}" };
        }
    }

    public static bool Passed(IEnumerable<CheckRow> rows) => rows.All(r => r.Relative <= Tolerance);

    /// <summary>The category's scale floor: this fraction of the largest reference magnitude among its tensors.</summary>
    public const double ScaleFloor = 1e-3;

    private static List<CheckRow> WithRelativeErrors(List<CheckRow> rows)
    {
        var categoryMax = rows.GroupBy(r => r.Category).ToDictionary(g => g.Key, g => g.Max(r => r.ReferenceMax));
        return rows.Select(r =>
        {
            var scale = Math.Max(r.ReferenceMax, ScaleFloor * categoryMax[r.Category]);
            var relative = double.IsNaN(r.MaxAbs) ? double.NaN : scale == 0 ? (r.MaxAbs == 0 ? 0 : double.PositiveInfinity) : r.MaxAbs / scale;
            return r with { Relative = relative };
        }).ToList();
    }

    private static CheckRow Row(string name, ReadOnlySpan<float> tested, ReadOnlySpan<float> reference)
    {
        var (maxAbs, referenceMax) = TensorUtil.Compare(tested, reference);
        var category = name.EndsWith(" (gradient)", StringComparison.Ordinal) ? "gradient"
            : name.EndsWith(" (after SGD)", StringComparison.Ordinal) ? "weight"
            : name.Contains(".running_", StringComparison.Ordinal) ? "running statistic"
            : name;
        return new CheckRow(name, category, reference.Length, maxAbs, referenceMax);
    }
}
