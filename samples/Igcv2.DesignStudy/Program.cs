using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Igcv2;
using Igcv2.Data;
using Igcv2.Samples.DesignStudy;
using Igcv2.Training;

// The paper's Figures 2 and 3 at small scale on the bundled digits: networks of about equal parameter count
// with different K and L, trained briefly, accuracy against L and against K, written as CSV and PNG.
// Defaults (9 networks x 2 seeds, 3 epochs on 4,000 digits) took 272 s on two shared CPU cores; --epochs,
// --train-limit and --seeds scale it up. At this scale the seed spread (up to +-1.4 points) is as large as most
// differences between designs: read the figures with the min-max bars.

var epochs = new Option<int>("--epochs") { Description = "Epochs per network.", DefaultValueFactory = _ => 3 };
var trainLimit = new Option<int>("--train-limit") { Description = "Training images (of the 8,000 bundled; 0: all).", DefaultValueFactory = _ => 4000 };
var seeds = new Option<int>("--seeds") { Description = "Runs per network (seeds 0..n-1); the mean is plotted with the min-max range.", DefaultValueFactory = _ => 2 };
var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size.", DefaultValueFactory = _ => 64 };
var learningRate = new Option<double>("--lr") { Description = "Peak learning rate (SGD, Nesterov momentum 0.9, cosine decay).", DefaultValueFactory = _ => 0.1 };
var only = new Option<string>("--only") { Description = "all, figure2 (vary K) or figure3 (vary L).", DefaultValueFactory = _ => "all" };
var deviceOption = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
var output = new Option<string>("--output") { Description = "Folder for design-study.csv, figure2.png and figure3.png.", DefaultValueFactory = _ => Path.Combine("runs", "design-study") };

var root = new RootCommand("IGCV2 design study: accuracy against L and K at equal parameters (paper Figures 2 and 3), on the bundled digits.")
{
    epochs, trainLimit, seeds, batchSize, learningRate, only, deviceOption, output,
};
root.SetAction(parse => Study.Run(new StudySettings(
    parse.GetValue(epochs), parse.GetValue(trainLimit), parse.GetValue(seeds), parse.GetValue(batchSize), parse.GetValue(learningRate),
    parse.GetValue(only)!, parse.GetValue(deviceOption)!, parse.GetValue(output)!)));
return root.Parse(args).Invoke();

internal sealed record StudySettings(int Epochs, int TrainLimit, int Seeds, int BatchSize, double LearningRate, string Only, string Device, string Output);

internal static class Study
{
    public static int Run(StudySettings s)
    {
        var variants = s.Only switch
        {
            "all" => Variants.All,
            "figure2" => Variants.VaryK,
            "figure3" => Variants.VaryL,
            _ => throw new ArgumentException($"--only {s.Only}: use all, figure2 or figure3."),
        };
        var clock = Stopwatch.StartNew();
        var (train, test) = BundledDigits.Load();
        if (s.TrainLimit > 0 && s.TrainLimit < train.Count) train = train.Subset(0, s.TrainLimit);
        var normalize = Normalize.From(train);
        var pipeline = AugmentationPipeline.Mnist(normalize);
        using var device = Device.Create(s.Device.ToLowerInvariant() switch
        {
            "cpu" => DeviceKind.Cpu,
            "cuda" or "gpu" => DeviceKind.Cuda,
            _ => DeviceKind.Auto,
        });
        Console.WriteLine($"Design study on {device}: {variants.Count} networks x {s.Seeds} seed(s), {s.Epochs} epoch(s) on {train.Count:N0} digits, tested on {test.Count:N0}.");
        Console.WriteLine($"{"network",-8} {"L",2} {"K",-18} {"C",3} {"block W",8} {"params",7} {"paths/pair",10} {"density",7}  kind");
        foreach (var v in variants)
        {
            Console.WriteLine(Inv($"{v.Name,-8} {v.L,2} {v.KText,-18} {v.C,3} {v.BlockWeights,8:N0} {v.ParameterCount,7:N0} {v.PathsPerPair,10:0.00} {v.Density,7:0.00}  {v.Kind}"));
        }

        Directory.CreateDirectory(s.Output);
        var results = new List<StudyResult>();
        var csvPath = Path.Combine(s.Output, "design-study.csv");
        foreach (var v in variants)
        {
            for (var seed = 0; seed < s.Seeds; seed++)
            {
                var result = Train(v, seed, train, test, pipeline, device, s);
                results.Add(result);
                Console.WriteLine(Inv($"[{clock.Elapsed:mm\\:ss}] {v.Name} seed {seed}: test accuracy {100 * result.TestAccuracy:0.00}% ({result.Seconds:0} s, {result.ImagesPerSecond:0} images/s)"));
                StudyReport.WriteCsv(csvPath, results);
            }
        }

        StudyReport.PrintSummary(variants, results);
        if (s.Only is "all" or "figure3") StudyReport.PlotVaryL(Path.Combine(s.Output, "figure3.png"), Variants.VaryL, results);
        if (s.Only is "all" or "figure2") StudyReport.PlotVaryK(Path.Combine(s.Output, "figure2.png"), Variants.VaryK, results);
        Console.WriteLine(Inv($"Done in {clock.Elapsed.TotalSeconds:0} s. {Path.GetFullPath(s.Output)}: design-study.csv, figure2.png, figure3.png."));
        return 0;
    }

    private static StudyResult Train(Variant v, int seed, Dataset train, Dataset test, AugmentationPipeline pipeline, Device device, StudySettings s)
    {
        using var model = v.Create(device, s.BatchSize, seed);
        var trainLoader = new DataLoader(train, s.BatchSize, new DataLoaderOptions { Seed = seed, Augmentation = pipeline, Shuffle = true });
        var testLoader = new DataLoader(test, s.BatchSize, new DataLoaderOptions { Seed = seed, Augmentation = pipeline, Shuffle = false });
        var options = new TrainerOptions
        {
            Epochs = s.Epochs,
            Schedule = new CosineSchedule(s.LearningRate, s.Epochs),
            Optimizer = new SgdOptions { WeightDecay = 5e-4 },
            Seed = seed,
        };
        using var trainer = new Trainer(model, LossFunction.From(device.Ops.SoftmaxCrossEntropy), options);
        var clock = Stopwatch.StartNew();
        // The test set is evaluated once, after the last epoch: the study reports final accuracy only.
        var run = trainer.Run(epoch => trainLoader.Epoch(epoch), trainLoader.BatchesPerEpoch);
        if (!run.Completed) throw new InvalidOperationException($"{v.Name} seed {seed}: training stopped ({run.Outcome}).");
        var evaluation = trainer.Evaluate(testLoader.Epoch(0));
        return new StudyResult(v.Name, seed, evaluation.Accuracy, run.History[^1].TrainAccuracy, clock.Elapsed.TotalSeconds,
            run.History.Average(e => e.ImagesPerSecond));
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
