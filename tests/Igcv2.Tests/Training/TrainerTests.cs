using Igcv2.Training;
using Spectre.Console;

namespace Igcv2.Tests.Training;

public sealed class TrainerTests : TrainingFixture
{
    [Fact]
    public void Training_on_separable_data_beats_chance_by_far()
    {
        using var model = Model(seed: 3);
        using var trainer = new Trainer(model, new HostLossFunction(), Options(4));
        var before = trainer.Evaluate(Test.InOrder(BatchSize));

        var result = Run(trainer);

        Assert.True(result.Completed);
        Assert.Equal(4, result.History.Count);
        var last = result.History[^1];
        Assert.True(last.TestAccuracy > 0.9, $"test accuracy {last.TestAccuracy} (chance 0.25, before training {before.Accuracy})");
        Assert.True(last.TrainLoss < result.History[0].TrainLoss / 2, $"train loss {result.History[0].TrainLoss} -> {last.TrainLoss}");
        Assert.True(last.TestLoss < before.Loss / 2);
        Assert.Equal(96, trainer.Evaluate(Test.InOrder(BatchSize)).Images);
        Assert.All(result.History, e => Assert.True(e.ImagesPerSecond > 0 && e.Seconds > 0));
        Assert.Equal([1, 2, 3, 4], result.History.Select(e => e.Epoch));
    }

    [Fact]
    public void The_schedule_sets_each_steps_rate()
    {
        using var model = Model();
        var options = Options(2) with { Schedule = new MultiStepSchedule(0.1, [1]).WithWarmup(0.5) };
        using var trainer = new Trainer(model, new HostLossFunction(), options);
        var recorder = new LossRecorder();

        var result = Run(trainer.Observe(recorder));

        Assert.Equal(26, recorder.Steps.Count);
        Assert.Equal(0.0, recorder.Steps[0].Rate);
        Assert.Equal(0.1 * (3 / 13.0) / 0.5, recorder.Steps[3].Rate, 12);
        Assert.Equal(0.1, recorder.Steps[12].Rate, 12);
        Assert.All(recorder.Steps.Skip(13), s => Assert.Equal(0.01, s.Rate, 12));
        Assert.Equal(0.01, result.History[1].LearningRate, 12);
    }

    [Fact]
    public void The_default_observers_write_a_csv_a_png_and_plain_console_lines()
    {
        var csv = Path.Combine(Folder, "log", "train.csv");
        var png = Path.Combine(Folder, "curves.png");
        var output = new StringWriter();
        var console = Console(output, interactive: false);
        using var model = Model();
        using var trainer = new Trainer(model, new HostLossFunction(), Options(2));
        using var progress = new ConsoleProgressObserver(console) { PlainStepInterval = 5 };
        trainer.Observe(new CsvLogObserver(csv)).Observe(new PlotObserver(png, 400, 300)).Observe(progress);

        Run(trainer);

        var lines = File.ReadAllLines(csv);
        Assert.Equal(CsvLogObserver.Header, lines[0]);
        Assert.Equal(3, lines.Length);
        var fields = lines[2].Split(',');
        Assert.Equal(8, fields.Length);
        Assert.Equal("2", fields[0]);
        Assert.Equal(trainer.History[1].TestAccuracy, double.Parse(fields[5], System.Globalization.CultureInfo.InvariantCulture), 5);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
        var text = output.ToString();
        Assert.Contains("epoch 1/2  lr", text);
        Assert.Contains("epoch 2/2  lr", text);
        Assert.Contains("epoch 1 step 10/13", text);
        Assert.Contains("Trained 2 epochs.", text);
        Assert.DoesNotContain("\u001b[", text);
        // Spectre assumes 80 columns for a stream; each epoch's summary (longer than that) stays on one line.
        var epochLines = text.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, epochLines.Count);
        Assert.All(epochLines, l => Assert.True(l.TrimEnd().Length > 80 && l.TrimEnd().EndsWith("img/s", StringComparison.Ordinal), l));
    }

    [Fact]
    public void The_live_progress_display_runs_and_ends_with_the_run()
    {
        var output = new StringWriter();
        var console = Console(output, interactive: true);
        using var model = Model();
        using var trainer = new Trainer(model, new HostLossFunction(), Options(1));
        using var progress = new ConsoleProgressObserver(console, interactive: true);

        var result = Run(trainer.Observe(progress));

        Assert.True(result.Completed);
        var text = output.ToString();
        Assert.Contains("epoch 1/1", text);
        Assert.Contains("Trained 1 epochs.", text);
        Assert.DoesNotContain("epoch 2/1", text);
    }

    [Fact]
    public void The_live_display_shows_no_epoch_past_the_last()
    {
        var output = new StringWriter();
        var console = Console(output, interactive: true);
        using var model = Model();
        using var trainer = new Trainer(model, new HostLossFunction(), Options(2));
        using var progress = new ConsoleProgressObserver(console, interactive: true);

        Run(trainer.Observe(progress));

        var text = output.ToString();
        Assert.Contains("epoch 2/2", text);
        Assert.DoesNotContain("epoch 3/2", text);
    }

    [Fact]
    public void A_resumed_run_rewrites_the_csv_from_the_checkpoint_history()
    {
        var path = Path.Combine(Folder, "c.safetensors");
        var csv = Path.Combine(Folder, "train.csv");
        using (var model = Model())
        using (var trainer = new Trainer(model, new HostLossFunction(), Options(3, path) with { Epochs = 2 }))
        {
            Run(trainer.Observe(new CsvLogObserver(csv)));
        }
        File.AppendAllText(csv, "3,stale row of an interrupted run\n");
        using var resumedModel = Model();
        using var resumed = new Trainer(resumedModel, new HostLossFunction(), Options(3));
        resumed.LoadCheckpoint(path);

        Run(resumed.Observe(new CsvLogObserver(csv)));

        var lines = File.ReadAllLines(csv);
        Assert.Equal(4, lines.Length);
        Assert.Equal(["1", "2", "3"], lines.Skip(1).Select(l => l.Split(',')[0]));
        Assert.DoesNotContain(lines, l => l.Contains("stale"));
    }

    [Fact]
    public void A_batch_larger_than_the_model_is_refused()
    {
        using var model = Model();
        using var trainer = new Trainer(model, new HostLossFunction(), Options(1));
        var big = new global::Igcv2.Data.Batch(new float[17 * 32], new int[17], 17);

        var error = Assert.Throws<ArgumentException>(() => trainer.Run(_ => [big], 1));

        Assert.Contains("batch size 16", error.Message);
    }

    /// <summary>A Spectre console writing to <paramref name="output"/>: a live terminal with ANSI, or plain redirected output.</summary>
    private static IAnsiConsole Console(StringWriter output, bool interactive) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(output),
        Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        Ansi = interactive ? AnsiSupport.Yes : AnsiSupport.No,
    });
}
