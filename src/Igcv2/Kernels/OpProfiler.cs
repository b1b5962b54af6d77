using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Igcv2.Kernels;

/// <summary>
/// Where the time goes: set <see cref="Ops.Profiler"/> and every operation records its wall time under its name and
/// shape (a convolution as "3x3 s2 g64 64->128 28x28", the input map). On CUDA each profiled operation waits for the
/// device, so the profile is exact but the run is slower; without a profiler the operations cost nothing extra.
/// </summary>
/// <example>
/// <code>
/// var profiler = new OpProfiler();
/// device.Ops.Profiler = profiler;
/// model.Forward(x, training: true); model.Backward(g);
/// Console.WriteLine(profiler.Format(top: 12));
/// </code>
/// </example>
public sealed class OpProfiler
{
    private readonly Dictionary<(string Op, string Shape), (int Calls, long Ticks)> timings = new();

    /// <summary>The recorded operations, the most time first.</summary>
    public IReadOnlyList<OpTiming> Timings => timings
        .Select(t => new OpTiming(t.Key.Op, t.Key.Shape, t.Value.Calls, TimeSpan.FromSeconds(t.Value.Ticks / (double)Stopwatch.Frequency)))
        .OrderByDescending(t => t.Total)
        .ThenBy(t => t.Op, StringComparer.Ordinal)
        .ThenBy(t => t.Shape, StringComparer.Ordinal)
        .ToList();

    /// <summary>All the recorded time.</summary>
    public TimeSpan Total => TimeSpan.FromSeconds(timings.Values.Sum(t => t.Ticks) / (double)Stopwatch.Frequency);

    /// <summary>Forgets what was recorded (after warm-up, say).</summary>
    public void Clear() => timings.Clear();

    /// <summary>
    /// A Markdown table of the <paramref name="top"/> operations by time, each with its share of <see cref="Total"/>,
    /// and one row per operation name summed over its shapes.
    /// </summary>
    public string Format(int top = 15, int perCallOf = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perCallOf, 1);
        var all = Timings;
        double total = Math.Max(1e-12, Total.TotalMilliseconds);
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| op | shape | calls | ms{(perCallOf > 1 ? " per step" : "")} | share |"));
        text.AppendLine("| --- | --- | ---: | ---: | ---: |");
        foreach (var t in all.Take(top))
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {t.Op} | {t.Shape} | {t.Calls / perCallOf} | {t.Total.TotalMilliseconds / perCallOf:F2} | {t.Total.TotalMilliseconds / total:P1} |"));
        }
        foreach (var op in all.GroupBy(t => t.Op).OrderByDescending(g => g.Sum(t => t.Total.Ticks)))
        {
            double ms = op.Sum(t => t.Total.TotalMilliseconds);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| **{op.Key}** | all {op.Count()} shapes | {op.Sum(t => t.Calls) / perCallOf} | {ms / perCallOf:F2} | {ms / total:P1} |"));
        }
        return text.ToString();
    }

    /// <summary>Adds one call (thread-safe: image-by-image inference times its blocks on every core at once, so their rows add up the cores' time).</summary>
    internal void Record(string op, string shape, long ticks)
    {
        var key = (op, shape);
        lock (timings)
        {
            timings.TryGetValue(key, out var t);
            timings[key] = (t.Calls + 1, t.Ticks + ticks);
        }
    }

    /// <summary>Times one operation: disposing it records the elapsed time (a default scope records nothing).</summary>
    internal readonly struct Scope(OpProfiler? profiler, string op, string shape, long start, ILGPU.Runtime.Accelerator? synchronize) : IDisposable
    {
        public void Dispose()
        {
            if (profiler is null) return;
            synchronize?.Synchronize();
            profiler.Record(op, shape, Stopwatch.GetTimestamp() - start);
        }
    }
}

/// <summary>One operation at one shape: how often it ran and for how long in all.</summary>
public readonly record struct OpTiming(string Op, string Shape, int Calls, TimeSpan Total);
