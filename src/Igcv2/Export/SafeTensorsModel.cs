using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Igcv2.Design;

namespace Igcv2;

/// <summary>
/// What makes two models interchangeable for saved weights: the class, the plan (every row of the summary
/// plus each block's stride, skip and nonlinearity) and every parameter and buffer name with its shape.
/// <see cref="Fingerprint"/> hashes all of it; the plan lines travel in the file so that a refusal can say
/// which layer differs.
/// </summary>
public sealed class ModelArchitecture
{
    public const string ClassKey = "architecture";
    public const string FingerprintKey = "fingerprint";
    public const string PlanKey = "plan";

    private ModelArchitecture(string className, IReadOnlyList<string> planLines, IReadOnlyList<(string Name, int[] Shape)> tensors)
    {
        ClassName = className;
        PlanLines = planLines;
        Tensors = tensors;
        var text = new StringBuilder();
        text.Append(className).Append('\n');
        foreach (var line in planLines) text.Append(line).Append('\n');
        foreach (var (name, shape) in tensors) text.Append(name).Append(' ').Append(FormatShape(shape)).Append('\n');
        Fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The model's full type name, e.g. <c>MyApp.Igcv2C64</c>.</summary>
    public string ClassName { get; }

    public IReadOnlyList<string> PlanLines { get; }

    /// <summary>Parameters then buffers, in the model's order.</summary>
    public IReadOnlyList<(string Name, int[] Shape)> Tensors { get; }

    /// <summary>SHA-256 (hex) of the class name, plan lines and tensor names and shapes.</summary>
    public string Fingerprint { get; }

    public static ModelArchitecture Of(IModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = model.Parameters.Concat(model.Buffers).Select(p => (p.Name, p.Shape)).ToList();
        return new ModelArchitecture(model.GetType().FullName ?? model.GetType().Name, PlanLinesOf(model.Plan), tensors);
    }

    /// <summary>The metadata entries that identify this architecture in a file.</summary>
    public IEnumerable<KeyValuePair<string, string>> ToMetadata()
    {
        yield return new(ClassKey, ClassName);
        yield return new(FingerprintKey, Fingerprint);
        yield return new(PlanKey, string.Join('\n', PlanLines));
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> unless <paramref name="file"/> holds exactly this
    /// architecture's tensors (names, shapes) and plan, listing what differs. Tensors whose name starts
    /// with one of <paramref name="extraPrefixes"/> are left to the caller. With
    /// <paramref name="requireSameClass"/> the fingerprint must match too (checkpoints); weights may move
    /// between classes that declare the same network.
    /// </summary>
    public void EnsureMatches(SafeTensorsFile file, bool requireSameClass, params string[] extraPrefixes)
    {
        ArgumentNullException.ThrowIfNull(file);
        var problems = new List<string>();
        var expected = Tensors.ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        var missing = Tensors.Where(t => !file.Tensors.ContainsKey(t.Name)).Select(t => t.Name).ToList();
        var unexpected = file.Tensors.Keys
            .Where(n => !expected.ContainsKey(n) && !extraPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal).ToList();
        var reshaped = Tensors
            .Where(t => file.Tensors.TryGetValue(t.Name, out var stored) && !stored.shape.SequenceEqual(t.Shape))
            .Select(t => $"{t.Name} is {FormatShape(file.Tensors[t.Name].shape)} in the file, {FormatShape(t.Shape)} in the model")
            .ToList();
        if (missing.Count > 0) problems.Add($"missing from the file: {List(missing)}");
        if (unexpected.Count > 0) problems.Add($"not in the model: {List(unexpected)}");
        if (reshaped.Count > 0) problems.Add($"shapes differ: {List(reshaped)}");

        if (file.Metadata.TryGetValue(PlanKey, out var plan))
        {
            var stored = plan.Split('\n');
            var firstDifference = Enumerable.Range(0, Math.Max(stored.Length, PlanLines.Count))
                .FirstOrDefault(i => i >= stored.Length || i >= PlanLines.Count || stored[i] != PlanLines[i], -1);
            if (firstDifference >= 0)
            {
                var theirs = firstDifference < stored.Length ? stored[firstDifference] : "(nothing)";
                var ours = firstDifference < PlanLines.Count ? PlanLines[firstDifference] : "(nothing)";
                problems.Add($"the plan differs at layer {firstDifference + 1}: the file has '{theirs}', the model '{ours}'");
            }
        }
        if (problems.Count == 0 && requireSameClass)
        {
            var fileClass = file.Metadata.GetValueOrDefault(ClassKey, "(not recorded)");
            if (fileClass != ClassName) problems.Add($"it was written by {fileClass}, this model is {ClassName}");
            else if (file.Metadata.GetValueOrDefault(FingerprintKey) != Fingerprint) problems.Add("the architecture fingerprints differ");
        }
        if (problems.Count > 0)
        {
            var writer = file.Metadata.GetValueOrDefault(ClassKey, "an unknown model");
            throw new InvalidDataException(
                $"{file.Path} was written for another architecture ({writer}) than this {ClassName}: {string.Join("; ", problems)}.");
        }
    }

    internal static string FormatShape(int[] shape) => "[" + string.Join(", ", shape) + "]";

    private static string List(List<string> items) =>
        items.Count <= 8 ? string.Join(", ", items) : string.Join(", ", items.Take(8)) + $" and {items.Count - 8} more";

    private static List<string> PlanLinesOf(NetworkPlan plan)
    {
        var lines = new List<string>();
        var spec = plan.Spec;
        lines.Add(Invariant($"input {spec.InputChannels}x{spec.InputSize}x{spec.InputSize} classes {spec.Classes}"));
        foreach (var row in plan.Rows)
        {
            lines.Add(Invariant($"{row.Name} {row.Kind} {row.InChannels}->{row.OutChannels} K {row.K} out {row.OutputSize} weights {row.Weights} params {row.Parameters}"));
        }
        foreach (var block in plan.Blocks)
        {
            lines.Add(Invariant($"{block.Name} stride {block.Stride} skip_from {block.SkipFrom} activations {string.Join(",", block.Activations)} final {block.FinalActivation}"));
        }
        return lines;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What loading a weights file or a checkpoint found: whether its checksums were there and verified.</summary>
/// <param name="Path">The file loaded.</param>
/// <param name="ChecksumsVerified">False for a file without checksums (older, or another tool's), loaded unverified.</param>
public sealed record LoadedFile(string Path, bool ChecksumsVerified)
{
    /// <summary>For a file without checksums, a sentence saying so; null when they were verified.</summary>
    public string? Note => ChecksumsVerified
        ? null
        : $"note: {Path} carries no checksums (an older file, or another tool's): its bytes cannot be verified, only its shapes and values.";

    internal static LoadedFile Of(SafeTensorsFile file) => new(file.Path, file.ChecksumsVerified);
}

/// <summary>
/// A model's weights and BN running statistics in a safetensors file (no optimizer state): what the ONNX
/// exporter and inference read. Loading verifies the checksums, checks names, shapes, dtype and the plan,
/// and refuses non-finite values; a refused file changes nothing in the model.
/// </summary>
public static class ModelWeights
{
    public const string FormatKey = "format";
    public const string FormatVersionKey = "format_version";
    public const string WeightsFormat = "igcv2.weights";
    public const string FormatVersion = "1";

    /// <summary>Writes every parameter and buffer by name, atomically.</summary>
    public static void SaveWeights(this IModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = new Dictionary<string, string>(ModelArchitecture.Of(model).ToMetadata())
        {
            [FormatKey] = WeightsFormat,
            [FormatVersionKey] = FormatVersion,
        };
        SafeTensors.Save(path, Snapshot(model.Parameters.Concat(model.Buffers)), metadata);
    }

    /// <summary>
    /// Loads every parameter and buffer from <paramref name="path"/> (a weights file or a training
    /// checkpoint); refuses, saying what differs, a file written for another architecture, a file whose bytes
    /// fail their checksums and one holding a NaN or an infinity. Nothing is loaded from a refused file.
    /// </summary>
    /// <returns>Whether the file's checksums were verified (a file without any still loads; see <see cref="LoadedFile.Note"/>).</returns>
    public static LoadedFile LoadWeights(this IModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var file = SafeTensors.Load(path);
        var tensors = model.Parameters.Concat(model.Buffers).ToList();
        ModelArchitecture.Of(model).EnsureMatches(file, requireSameClass: false, "optimizer.");
        EnsureFinite(file, tensors.Select(p => p.Name));
        Restore(tensors, file);
        return LoadedFile.Of(file);
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> naming the first of <paramref name="names"/> in
    /// <paramref name="file"/> that holds a NaN or an infinity, the index and how many values are not finite.
    /// </summary>
    internal static void EnsureFinite(SafeTensorsFile file, IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            var data = file.Tensors[name].data;
            var first = FirstNonFinite(data);
            if (first < 0) continue;
            var count = data.Count(v => !float.IsFinite(v));
            throw new InvalidDataException(
                $"{file.Path}: tensor '{name}' holds {data[first].ToString(CultureInfo.InvariantCulture)} at index {first} " +
                $"({count} of its {data.Length} values are not finite): refused, since training or inference on it can only give NaN. " +
                "Nothing was loaded from the file and it is left as it is.");
        }
    }

    /// <summary>The index of the first NaN or infinity in <paramref name="data"/>, or -1.</summary>
    internal static int FirstNonFinite(ReadOnlySpan<float> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i])) return i;
        }
        return -1;
    }

    internal static Dictionary<string, (int[] shape, float[] data)> Snapshot(IEnumerable<Parameter> tensors)
    {
        var result = new Dictionary<string, (int[] shape, float[] data)>(StringComparer.Ordinal);
        foreach (var p in tensors)
        {
            if (!result.TryAdd(p.Name, (p.Shape, p.GetValues())))
            {
                throw new InvalidOperationException($"Two model tensors are named '{p.Name}'; names must be unique to be saved.");
            }
        }
        return result;
    }

    internal static void Restore(IEnumerable<Parameter> tensors, SafeTensorsFile file)
    {
        foreach (var p in tensors) p.SetValues(file.Tensors[p.Name].data);
    }
}
