using System.CommandLine;
using System.Diagnostics;
using Igcv2;
using Igcv2.Data;
using Igcv2.Samples.Train;
using Igcv2.Training;

// The main job: train a generated IGCV2 model. By default on the 10,000 bundled MNIST digits
// (8,000 train / 2,000 test); --format/--data train the paper's Table 1 networks (--network: IGCV2 (C64) by
// default, Xception, IGC-V1, IGCV2*) on CIFAR or Tiny ImageNet.

var epochs = new Option<int>("--epochs") { Description = "Epochs to train (default: 24 on digits, 400 on CIFAR, 200 on Tiny ImageNet, as the paper)." };
var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size.", DefaultValueFactory = _ => 64 };
var learningRate = new Option<double>("--lr") { Description = "Peak learning rate (SGD, Nesterov momentum 0.9).", DefaultValueFactory = _ => 0.1 };
var weightDecay = new Option<double?>("--weight-decay") { Description = "Weight decay on conv/FC weights, not BN or biases (default: 5e-4 on digits, the paper's 1e-4 elsewhere)." };
var schedule = new Option<string>("--schedule") { Description = "cosine (default on digits) or multistep (x0.1 at 50%, 75%, 87.5% of the epochs, the paper's 200/300/350 of 400)." };
var seed = new Option<int>("--seed") { Description = "Seed for weights, shuffling and augmentation.", DefaultValueFactory = _ => 0 };
var deviceOption = new Option<string>("--device") { Description = "auto (CUDA if present, else CPU), cpu or cuda. IGCV2_DEVICE does the same.", DefaultValueFactory = _ => "auto" };
var output = new Option<string>("--output") { Description = "Folder for the checkpoint, the CSV log and the PNG of the curves.", DefaultValueFactory = _ => Path.Combine("runs", "digits") };
var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in --output (bit-exact on the CPU)." };
var format = new Option<string>("--format") { Description = "digits (bundled), mnist, cifar10, cifar100 or tinyimagenet.", DefaultValueFactory = _ => "digits" };
var data = new Option<string?>("--data") { Description = "Dataset folder for --format mnist|cifar10|cifar100|tinyimagenet (the published layouts)." };
var augmentOption = new Option<string>("--augment")
{
    Description = "Training augmentation: auto (default: digits for digits and mnist, the paper's for cifar and tinyimagenet), digits (rotate/scale/shift), flipcrop (padded random crop + horizontal flip, e.g. Fashion-MNIST) or none.",
    DefaultValueFactory = _ => "auto",
};
var limit = new Option<int>("--limit") { Description = "Use only the first N training images (0: all), for quick runs." };
var network = new Option<string>("--network")
{
    Description = "The Table 1 network (D = 20) for cifar10|cifar100|tinyimagenet: igcv2-c64 (default), xception-c35, igcv1-c48 or igcv2star-c416. Digits and MNIST train DigitsNet.",
};

var root = new RootCommand("Train a generated IGCV2 network (Xie et al., CVPR 2018).")
{
    epochs, batchSize, learningRate, weightDecay, schedule, seed, deviceOption, output, resume, format, data, limit, network, augmentOption,
};
root.SetAction(parse => RunChecked(new Settings(
    parse.GetValue(format)!, parse.GetValue(data), parse.GetValue(epochs), parse.GetValue(batchSize), parse.GetValue(learningRate),
    parse.GetValue(weightDecay), parse.GetValue(schedule), parse.GetValue(seed), parse.GetValue(deviceOption)!, parse.GetValue(output)!,
    parse.GetValue(resume), parse.GetValue(limit), parse.GetValue(network), parse.GetValue(augmentOption)!)));
return root.Parse(args).Invoke();

// Bad options or data get one clear line and exit code 2, not a stack trace.
static int RunChecked(Settings s)
{
    try
    {
        return Run(s);
    }
    catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or InvalidDataException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
}

static int Run(Settings s)
{
    CheckNetwork(s.Format, s.Network);
    var preset = ParseAugment(s.Augment);
    var (train, test, augment, evaluate, defaultEpochs, augmentName) = LoadData(s, preset);
    var epochs = s.Epochs > 0 ? s.Epochs : defaultEpochs;
    using var device = Device.Create(ParseDevice(s.Device));
    using var model = CreateModel(s.Format, s.Network?.ToLowerInvariant() ?? "igcv2-c64", device, s.BatchSize, s.Seed);
    Console.WriteLine($"Device: {device}. Network: {model.GetType().Name}, {model.Parameters.Sum(p => p.Length):N0} parameters.");
    Console.WriteLine($"Data: {train.Name} ({train.Count:N0} train), {test.Name} ({test.Count:N0} test), {train.Channels}x{train.Height}x{train.Width}, augmentation {augmentName}.");

    var trainLoader = new DataLoader(train, s.BatchSize, new DataLoaderOptions { Seed = s.Seed, Augmentation = augment, Shuffle = true });
    var testLoader = new DataLoader(test, s.BatchSize, new DataLoaderOptions { Seed = s.Seed, Augmentation = evaluate, Shuffle = false });
    var scheduleName = s.Schedule ?? (s.Format == "digits" || s.Format == "mnist" ? "cosine" : "multistep");
    LearningRateSchedule schedule = scheduleName switch
    {
        "cosine" => new CosineSchedule(s.LearningRate, epochs),
        "multistep" => MultiStepSchedule.PaperScaled(epochs, s.LearningRate),
        _ => throw new ArgumentException($"--schedule {scheduleName}: use cosine or multistep."),
    };
    if (epochs > 4) schedule = schedule.WithWarmup(1, 0.1);

    Directory.CreateDirectory(s.Output);
    var checkpoint = Path.Combine(s.Output, "checkpoint.safetensors");
    var options = new TrainerOptions
    {
        Epochs = epochs,
        Schedule = schedule,
        Optimizer = new SgdOptions { WeightDecay = s.WeightDecay ?? (s.Format is "digits" or "mnist" ? 5e-4 : 1e-4) },
        Seed = s.Seed,
        CheckpointPath = checkpoint,
    };
    using var trainer = new Trainer(model, LossFunction.CrossEntropy(device), options);
    if (s.Resume)
    {
        if (!File.Exists(checkpoint))
        {
            Console.Error.WriteLine($"--resume: no checkpoint at {checkpoint}.");
            return 2;
        }
        trainer.LoadCheckpoint(checkpoint);
        Console.WriteLine($"Resumed from {checkpoint} at epoch {trainer.Epoch + 1}, step {trainer.Step}.");
    }
    using var progress = new ConsoleProgressObserver();
    trainer.Observe(progress)
        .Observe(new CsvLogObserver(Path.Combine(s.Output, "log.csv")))
        .Observe(new PlotObserver(Path.Combine(s.Output, "curves.png")));

    var clock = Stopwatch.StartNew();
    var result = trainer.Run(epoch => trainLoader.Epoch(epoch), trainLoader.BatchesPerEpoch, testLoader.Epoch(0));
    var last = result.History.LastOrDefault();
    Console.WriteLine($"{result.Outcome} in {clock.Elapsed.TotalSeconds:0.0} s. " +
        (last is null ? "" : $"Test accuracy {last.TestAccuracy * 100:0.00}% (loss {last.TestLoss:0.0000}). ") +
        $"Checkpoint, log.csv and curves.png in {Path.GetFullPath(s.Output)}.");
    return result.Outcome is TrainingOutcome.Completed or TrainingOutcome.Cancelled ? 0 : 1;
}

static (Dataset Train, Dataset Test, AugmentationPipeline Augment, AugmentationPipeline Evaluate, int Epochs, string AugmentName) LoadData(Settings s, AugmentationPreset? preset)
{
    Dataset train, test;
    int epochs;
    switch (s.Format)
    {
        case "digits":
            (train, test) = BundledDigits.Load(s.Data);
            epochs = 24;
            break;
        case "mnist":
            train = Mnist.LoadDirectory(Require(s.Data), DatasetSplit.Train);
            test = Mnist.LoadDirectory(Require(s.Data), DatasetSplit.Test);
            epochs = 24;
            break;
        case "cifar10":
            train = Cifar.LoadCifar10(Require(s.Data), DatasetSplit.Train);
            test = Cifar.LoadCifar10(Require(s.Data), DatasetSplit.Test);
            epochs = 400;
            break;
        case "cifar100":
            train = Cifar.LoadCifar100(Require(s.Data), DatasetSplit.Train);
            test = Cifar.LoadCifar100(Require(s.Data), DatasetSplit.Test);
            epochs = 400;
            break;
        case "tinyimagenet":
            train = TinyImageNet.Load(Require(s.Data), DatasetSplit.Train, SkiaJpegDecoder.Instance);
            test = TinyImageNet.Load(Require(s.Data), DatasetSplit.Test, SkiaJpegDecoder.Instance);
            epochs = 200;
            break;
        default:
            throw new ArgumentException($"--format {s.Format}: use digits, mnist, cifar10, cifar100 or tinyimagenet.");
    }
    if (s.Limit > 0 && s.Limit < train.Count) train = train.Subset(0, s.Limit);
    var normalize = Normalize.From(train);
    var (augment, name) = preset is { } chosen
        ? (AugmentationPipeline.From(chosen, normalize, train.Height), chosen.ToString().ToLowerInvariant())
        : s.Format switch
        {
            "cifar10" or "cifar100" => (AugmentationPipeline.Cifar(normalize), "paper's CIFAR (pad 4, crop, flip)"),
            "tinyimagenet" => (AugmentationPipeline.TinyImageNet(normalize), "paper's Tiny ImageNet (scale, crop, flip)"),
            // Digits and other IDX data: 8,000 training images need augmentation, and rotations, scalings and shifts
            // suit digits and clothes alike, where flips would turn a digit into no digit (--augment flipcrop for
            // Fashion-MNIST).
            _ => (AugmentationPipeline.Digits(normalize), "digits (rotate, scale, shift)"),
        };
    if (train.Height != train.Width && preset == AugmentationPreset.FlipCrop)
    {
        throw new ArgumentException($"--augment flipcrop crops square images; {train.Name} is {train.Height}x{train.Width}.");
    }
    return (train, test, augment, AugmentationPipeline.Evaluation(normalize), epochs, name);
}

// null: the format's own augmentation.
static AugmentationPreset? ParseAugment(string value) => value.ToLowerInvariant() switch
{
    "auto" => null,
    "digits" => AugmentationPreset.Digits,
    "flipcrop" => AugmentationPreset.FlipCrop,
    "none" => AugmentationPreset.None,
    _ => throw new ArgumentException($"--augment {value}: use auto, digits, flipcrop or none."),
};

static IModel CreateModel(string format, string network, Device device, int batchSize, int seed) => (format, network) switch
{
    ("digits" or "mnist", _) => new DigitsNet(device, batchSize, seed),
    ("cifar10", "igcv2-c64") => new Igcv2C64Cifar10(device, batchSize, seed),
    ("cifar10", "xception-c35") => new XceptionC35Cifar10(device, batchSize, seed),
    ("cifar10", "igcv1-c48") => new IgcV1C48Cifar10(device, batchSize, seed),
    ("cifar10", "igcv2star-c416") => new Igcv2StarC416Cifar10(device, batchSize, seed),
    ("cifar100", "igcv2-c64") => new Igcv2C64Cifar100(device, batchSize, seed),
    ("cifar100", "xception-c35") => new XceptionC35Cifar100(device, batchSize, seed),
    ("cifar100", "igcv1-c48") => new IgcV1C48Cifar100(device, batchSize, seed),
    ("cifar100", "igcv2star-c416") => new Igcv2StarC416Cifar100(device, batchSize, seed),
    ("tinyimagenet", "igcv2-c64") => new Igcv2C64TinyImageNet(device, batchSize, seed),
    ("tinyimagenet", "xception-c35") => new XceptionC35TinyImageNet(device, batchSize, seed),
    ("tinyimagenet", "igcv1-c48") => new IgcV1C48TinyImageNet(device, batchSize, seed),
    ("tinyimagenet", "igcv2star-c416") => new Igcv2StarC416TinyImageNet(device, batchSize, seed),
    _ => throw new ArgumentException($"--network {network}: use igcv2-c64, xception-c35, igcv1-c48 or igcv2star-c416."),
};

// Checked before any data is read, so a typo costs nothing.
static void CheckNetwork(string format, string? network)
{
    string[] known = ["igcv2-c64", "xception-c35", "igcv1-c48", "igcv2star-c416"];
    if (network is null) return;
    if (format is "digits" or "mnist") throw new ArgumentException($"--network {network}: digits and MNIST train DigitsNet; --network picks a Table 1 network for cifar10, cifar100 or tinyimagenet.");
    if (!known.Contains(network.ToLowerInvariant())) throw new ArgumentException($"--network {network}: use {string.Join(", ", known)}.");
}

static DeviceKind ParseDevice(string value) => value.ToLowerInvariant() switch
{
    "auto" => DeviceKind.Auto,
    "cpu" => DeviceKind.Cpu,
    "cuda" or "gpu" => DeviceKind.Cuda,
    _ => throw new ArgumentException($"--device {value}: use auto, cpu or cuda."),
};

static string Require(string? path) =>
    path ?? throw new ArgumentException("--data is required with this --format: the folder holding the dataset in its published layout.");

internal sealed record Settings(
    string Format, string? Data, int Epochs, int BatchSize, double LearningRate, double? WeightDecay, string? Schedule,
    int Seed, string Device, string Output, bool Resume, int Limit, string? Network, string Augment);
