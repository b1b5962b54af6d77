using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Igcv2.Training;

/// <summary>
/// A training checkpoint is a safetensors file (<see cref="SafeTensors"/>) holding every parameter and
/// buffer under its model name, each trainable parameter's momentum as <c>optimizer.&lt;name&gt;.momentum</c>,
/// and in <c>__metadata__</c>: the format and its version, the architecture (class, fingerprint, plan),
/// the position (epoch, step, iteration: the schedule's input), the seed and shuffle algorithm that fix the
/// data order, the optimizer, schedule and run options, the running sums of a half-finished epoch and the
/// reports of the finished ones. Doubles are stored round-trip exact. Like every file
/// <see cref="SafeTensors"/> writes, it carries a checksum of each tensor and of the metadata.
/// <para>
/// A checkpoint is never written with a NaN or an infinity in it (<see cref="NonFiniteStateException"/>), and
/// one that holds any, or fails its checksums, is refused on load before anything changes.
/// </para>
/// </summary>
public static class TrainingCheckpoint
{
    public const string Format = "igcv2.checkpoint";
    public const string FormatVersion = "1";

    internal readonly record struct Position(
        int Epoch, int Step, long Iteration, double LossSum, IReadOnlyDictionary<string, double> MetricSums, long Seen, double TrainSeconds, double FirstRate);

    private static readonly JsonSerializerOptions HistoryJson = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Reads only the metadata of a checkpoint or weights file (for tools that list checkpoints).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) => SafeTensors.Load(path).Metadata;

    internal static void Save(string path, Trainer trainer, Position position, IReadOnlyList<EpochReport> history)
    {
        var model = trainer.Model;
        var tensors = ModelWeights.Snapshot(model.Parameters.Concat(model.Buffers));
        foreach (var p in trainer.Optimizer.Parameters)
        {
            tensors.Add(Sgd.StateName(p), (p.Shape, trainer.Optimizer.MomentumOf(p).ToArray()));
        }
        foreach (var (name, (_, data)) in tensors)
        {
            var first = ModelWeights.FirstNonFinite(data);
            if (first >= 0) throw new NonFiniteStateException(name, first, data[first]);
        }
        var options = trainer.Options;
        var metadata = new Dictionary<string, string>(ModelArchitecture.Of(model).ToMetadata())
        {
            [ModelWeights.FormatKey] = Format,
            [ModelWeights.FormatVersionKey] = FormatVersion,
            ["epoch"] = Text(position.Epoch),
            ["step"] = Text(position.Step),
            ["iteration"] = Text(position.Iteration),
            ["seed"] = Text(options.Seed),
            ["shuffle"] = EpochShuffle.Algorithm,
            ["batch_size"] = Text(model.BatchSize),
            ["epochs"] = Text(options.Epochs),
            ["optimizer"] = "sgd " + options.Optimizer,
            ["schedule"] = options.Schedule.ToString(),
            ["epoch_loss_sum"] = Text(position.LossSum),
            ["epoch_metric_sums"] = JsonSerializer.Serialize(position.MetricSums, HistoryJson),
            ["epoch_seen"] = Text(position.Seen),
            ["epoch_train_seconds"] = Text(position.TrainSeconds),
            ["epoch_first_rate"] = Text(position.FirstRate),
            ["history"] = JsonSerializer.Serialize(history, HistoryJson),
            ["device"] = model.Device.Kind.ToString(),
            ["written_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(path, tensors, metadata);
    }

    internal static (Position Position, IReadOnlyList<EpochReport> History, LoadedFile File) Load(string path, Trainer trainer)
    {
        var file = SafeTensors.Load(path);
        var format = file.Metadata.GetValueOrDefault(ModelWeights.FormatKey, "(none)");
        if (format != Format)
        {
            throw new InvalidDataException(
                $"{path} is not a training checkpoint (its format is '{format}', expected '{Format}'); a weights file loads with model.LoadWeights.");
        }
        var version = file.RequireMetadata(ModelWeights.FormatVersionKey);
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"{path} is checkpoint format version {version}; this library reads version {FormatVersion}.");
        }

        var model = trainer.Model;
        ModelArchitecture.Of(model).EnsureMatches(file, requireSameClass: true, Sgd.StatePrefix);
        var optimizer = trainer.Optimizer;
        var expectedState = optimizer.Parameters.ToDictionary(Sgd.StateName, p => p, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, p) in expectedState)
        {
            if (!file.Tensors.TryGetValue(name, out var stored)) problems.Add($"{name} is missing");
            else if (!stored.shape.SequenceEqual(p.Shape)) problems.Add($"{name} is {ModelArchitecture.FormatShape(stored.shape)}, expected {ModelArchitecture.FormatShape(p.Shape)}");
        }
        problems.AddRange(file.Tensors.Keys
            .Where(n => n.StartsWith(Sgd.StatePrefix, StringComparison.Ordinal) && !expectedState.ContainsKey(n))
            .Order(StringComparer.Ordinal)
            .Select(n => $"{n} belongs to no trainable parameter"));
        if (problems.Count > 0)
        {
            throw new InvalidDataException($"{path}: the optimizer state does not fit this model: {string.Join("; ", problems)}.");
        }

        var seed = Int(file, "seed");
        if (seed != trainer.Options.Seed)
        {
            throw new InvalidDataException(
                $"{path} was trained with seed {seed}, this trainer has seed {trainer.Options.Seed}: the data order would differ from the interrupted run. Resume with Seed = {seed}.");
        }
        var shuffle = file.Metadata.GetValueOrDefault("shuffle");
        if (shuffle != EpochShuffle.Algorithm)
        {
            throw new InvalidDataException($"{path} shuffled data with '{shuffle}', this library with '{EpochShuffle.Algorithm}'.");
        }

        var position = new Position(
            Int(file, "epoch"),
            Int(file, "step"),
            Long(file, "iteration"),
            Double(file, "epoch_loss_sum"),
            MetricSums(file),
            Long(file, "epoch_seen"),
            Double(file, "epoch_train_seconds"),
            Double(file, "epoch_first_rate"));
        IReadOnlyList<EpochReport> history;
        try
        {
            history = JsonSerializer.Deserialize<List<EpochReport>>(file.RequireMetadata("history"), HistoryJson) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: metadata 'history' is not a list of epoch reports ({e.Message}).", e);
        }

        var modelTensors = model.Parameters.Concat(model.Buffers).ToList();
        ModelWeights.EnsureFinite(file, modelTensors.Select(p => p.Name).Concat(expectedState.Keys));
        ModelWeights.Restore(modelTensors, file);
        foreach (var (name, p) in expectedState) optimizer.MomentumOf(p).CopyFrom(file.Tensors[name].data);
        return (position, history, LoadedFile.Of(file));
    }

    // The running sum of each metric over the epoch so far; files written before metrics were apart from the loss
    // hold the top-1 hits as epoch_correct, which is the Accuracy metric's sum.
    private static IReadOnlyDictionary<string, double> MetricSums(SafeTensorsFile file)
    {
        if (file.Metadata.TryGetValue("epoch_metric_sums", out var json))
        {
            try
            {
                return JsonSerializer.Deserialize<Dictionary<string, double>>(json, HistoryJson) ?? [];
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{file.Path}: metadata 'epoch_metric_sums' is not an object of metric sums ({e.Message}).", e);
            }
        }
        return new Dictionary<string, double> { [Accuracy.DefaultName] = Long(file, "epoch_correct") };
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static int Int(SafeTensorsFile file, string key) =>
        int.TryParse(file.RequireMetadata(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"{file.Path}: metadata '{key}' = '{file.Metadata[key]}' is not an integer.");

    private static long Long(SafeTensorsFile file, string key) =>
        long.TryParse(file.RequireMetadata(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"{file.Path}: metadata '{key}' = '{file.Metadata[key]}' is not an integer.");

    private static double Double(SafeTensorsFile file, string key) =>
        double.TryParse(file.RequireMetadata(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"{file.Path}: metadata '{key}' = '{file.Metadata[key]}' is not a number.");
}

/// <summary>
/// The training state holds a NaN or an infinity, so no checkpoint was written: the one on disk stays the
/// last good one. Names the first such tensor and index.
/// </summary>
public sealed class NonFiniteStateException(string tensor, int index, float value)
    : InvalidOperationException($"{tensor} holds {value.ToString(CultureInfo.InvariantCulture)} at index {index}: a checkpoint of it would be useless, so none was written.")
{
    public string Tensor { get; } = tensor;

    public int Index { get; } = index;

    public float Value { get; } = value;
}
