using Igcv2.Data;
using Igcv2.Training;

namespace Igcv2.Tests.Training;

/// <summary>The loss and the metrics are apart: metrics are a list with a default, reported everywhere a result goes.</summary>
public sealed class MetricsTests : TrainingFixture
{
    private static readonly IMetric[] TopOneAndTwo = [new Accuracy(), new TopKAccuracy(2)];

    [Fact]
    public void Accuracy_is_the_default_metric_of_trainers_and_fit()
    {
        Assert.Equal(["accuracy"], new TrainerOptions().Metrics.Select(m => m.Name));
        Assert.Equal(["accuracy"], new FitOptions().Metrics.Select(m => m.Name));
        using var model = Model();
        using var trainer = new Trainer(model, new HostLossFunction(), Options(1));

        var result = Run(trainer);

        var epoch = Assert.Single(result.History);
        Assert.Equal([new MetricValue("accuracy", epoch.TrainAccuracy)], epoch.TrainMetrics);
        Assert.Equal([new MetricValue("accuracy", epoch.TestAccuracy)], epoch.TestMetrics);
    }

    [Fact]
    public void Every_metric_is_reported_per_step_per_epoch_by_evaluate_and_in_the_csv()
    {
        var csv = Path.Combine(Folder, "log.csv");
        using var model = Model(seed: 3);
        using var trainer = new Trainer(model, new HostLossFunction(), Options(2) with { Metrics = TopOneAndTwo });
        var steps = new StepMetrics();
        trainer.Observe(steps).Observe(new CsvLogObserver(csv));

        var result = Run(trainer);

        Assert.All(steps.Metrics, m => Assert.Equal(["accuracy", "top2_accuracy"], m.Select(v => v.Name)));
        Assert.All(steps.Metrics, m => Assert.True(m[1].Value >= m[0].Value));
        Assert.Equal(steps.Correct, steps.Metrics.Select((m, i) => (int)Math.Round(m[0].Value * steps.Counts[i])));
        foreach (var e in result.History)
        {
            Assert.Equal(["accuracy", "top2_accuracy"], e.TrainMetrics.Select(m => m.Name));
            Assert.Equal(e.TrainAccuracy, e.TrainMetrics[0].Value);
            Assert.Equal(e.TestAccuracy, e.TestMetrics[0].Value);
            Assert.InRange(e.TestMetrics[1].Value, e.TestAccuracy, 1.0);
        }
        // Top-2 of 4 classes is never below top-1 and, on an untrained epoch, above chance.
        Assert.True(result.History[0].TrainMetrics[1].Value > 0.5);
        var evaluation = trainer.Evaluate(Test.InOrder(BatchSize));
        Assert.Equal(result.History[^1].TestMetrics, evaluation.Metrics);
        Assert.Equal(evaluation.Accuracy, evaluation.Metrics[0].Value);

        var lines = File.ReadAllLines(csv);
        Assert.Equal(CsvLogObserver.Header + ",train_top2_accuracy,test_top2_accuracy", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.Equal(10, l.Split(',').Length));
        Assert.Equal(result.History[^1].TestMetrics[1].Value, double.Parse(lines[^1].Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture), 5);
    }

    [Fact]
    public void Metrics_do_not_change_the_losses_and_none_leaves_accuracy_nan()
    {
        using var withModel = Model();
        using var with = new Trainer(withModel, new HostLossFunction(), Options(2) with { Metrics = TopOneAndTwo });
        var withLosses = new LossRecorder();
        Run(with.Observe(withLosses));
        using var withoutModel = Model();
        using var without = new Trainer(withoutModel, new HostLossFunction(), Options(2) with { Metrics = [] });
        var withoutLosses = new LossRecorder();
        var result = Run(without.Observe(withoutLosses));

        Assert.Equal(withLosses.Steps, withoutLosses.Steps);
        Assert.Equal(with.History.Select(e => e.TestLoss), result.History.Select(e => e.TestLoss));
        Assert.All(result.History, e => Assert.True(double.IsNaN(e.TrainAccuracy) && double.IsNaN(e.TestAccuracy)));
        Assert.All(result.History, e => Assert.Empty(e.TrainMetrics));
    }

    [Fact]
    public void Two_metrics_of_one_name_are_refused()
    {
        using var model = Model();
        var error = Assert.Throws<ArgumentException>(() => new Trainer(model, new HostLossFunction(), Options(1) with { Metrics = [new TopKAccuracy(3), new TopKAccuracy(3)] }));
        Assert.Contains("'top3_accuracy' twice", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TopKAccuracy(0));
    }

    [Fact]
    public void A_mid_epoch_resume_keeps_every_metrics_running_sum()
    {
        var path = Path.Combine(Folder, "mid.safetensors");
        var options = Options(2) with { Metrics = TopOneAndTwo };
        using var straightModel = Model();
        using var straight = new Trainer(straightModel, new HostLossFunction(), options);
        Run(straight);

        using (var firstModel = Model())
        using (var first = new Trainer(firstModel, new HostLossFunction(), options with { CheckpointPath = path }))
        {
            var cancel = new CancellationTokenSource();
            Assert.Equal(TrainingOutcome.Cancelled, Run(first.Observe(new CancelAfter(17, cancel)), cancel.Token).Outcome);
        }
        using var resumedModel = Model(seed: 5);
        using var resumed = new Trainer(resumedModel, new HostLossFunction(), options);
        resumed.LoadCheckpoint(path);
        Run(resumed);

        Assert.Equal(straight.History.Select(h => h with { Seconds = 0, ImagesPerSecond = 0 }),
            resumed.History.Select(h => h with { Seconds = 0, ImagesPerSecond = 0 }));
        Assert.Equal(2, resumed.History[1].TrainMetrics.Count);
    }

    [Fact]
    public void A_label_outside_the_classes_stops_training_naming_it_and_its_index()
    {
        using var model = Model();
        using var trainer = new Trainer(model, LossFunction.CrossEntropy(), Options(1));
        var labels = new int[BatchSize];
        labels[5] = 4;
        var batch = new Batch(new float[BatchSize * 32], labels, BatchSize);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Run(_ => [batch], 1));

        Assert.Contains("labels[5] = 4 is not a class index in [0, 4)", error.Message);
    }

    private sealed class StepMetrics : ITrainingObserver
    {
        public List<IReadOnlyList<MetricValue>> Metrics { get; } = [];

        public List<int> Correct { get; } = [];

        public List<int> Counts { get; } = [];

        public void StepCompleted(in StepReport step)
        {
            Metrics.Add(step.Metrics);
            Correct.Add(step.Correct);
            Counts.Add(step.Count);
        }
    }
}
