using System.Globalization;
using Spectre.Console;

namespace Igcv2.Training;

/// <summary>
/// Shows training on the console with Spectre.Console: on a terminal, a progress bar per run and per epoch
/// whose label carries the epoch's running loss and accuracy and the learning rate, and one summary line
/// per epoch above them. Where output is redirected or not interactive (CI, a log file) it prints plain
/// lines instead: the start, every <see cref="PlainStepInterval"/>-th step when set, and each epoch's summary,
/// each on one line however long (written past Spectre's layout, which would wrap them at the assumed
/// 80 columns of a redirected stream).
/// </summary>
public sealed class ConsoleProgressObserver : ITrainingObserver, IDisposable
{
    private readonly IAnsiConsole console;
    private readonly bool interactive;
    private TaskCompletionSource? finished;
    private Task? display;
    private ProgressTask? runTask;
    private ProgressTask? epochTask;
    private int epochs;
    private double lossSum;
    private long correct;
    private long seen;

    /// <param name="console">Where to write; the process console by default.</param>
    /// <param name="interactive">Force the live display on or off; by default it is on when the console is an interactive terminal.</param>
    public ConsoleProgressObserver(IAnsiConsole? console = null, bool? interactive = null)
    {
        this.console = console ?? AnsiConsole.Console;
        this.interactive = interactive ?? (this.console.Profile.Capabilities.Interactive && !(console is null && Console.IsOutputRedirected));
    }

    /// <summary>Without a live display, also print a line every this many steps; 0 (default): only per epoch.</summary>
    public int PlainStepInterval { get; init; }

    public void TrainingStarted(TrainingStart start)
    {
        epochs = start.Epochs;
        Line(start.Description);
        if (start.StartEpoch > 0 || start.StartStep > 0)
        {
            Line(Invariant($"Resuming in epoch {start.StartEpoch + 1} at step {start.StartStep}."));
        }
        ResetEpoch();
        if (!interactive || start.StartEpoch >= start.Epochs) return;

        var remaining = (double)(start.Epochs - start.StartEpoch) * start.StepsPerEpoch - start.StartStep;
        finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ready = new ManualResetEventSlim();
        display = console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                runTask = context.AddTask("run", maxValue: Math.Max(1, remaining));
                epochTask = context.AddTask(EpochLabel(start.StartEpoch, 0, 0), maxValue: start.StepsPerEpoch);
                epochTask.Value = start.StartStep;
                ready.Set();
                await finished.Task.ConfigureAwait(false);
            });
        ready.Wait(TimeSpan.FromSeconds(10));
    }

    public void StepCompleted(in StepReport step)
    {
        lossSum += (double)step.Loss * step.Count;
        correct += step.Correct;
        seen += step.Count;
        if (epochTask is not null && runTask is not null)
        {
            epochTask.Value = step.Step + 1;
            epochTask.Description = EpochLabel(step.Epoch, step.LearningRate, step.Step + 1);
            runTask.Increment(1);
            runTask.Description = Invariant($"run  epoch {step.Epoch + 1}/{epochs}");
        }
        else if (PlainStepInterval > 0 && (step.Step + 1) % PlainStepInterval == 0)
        {
            Line(Invariant($"  epoch {step.Epoch + 1} step {step.Step + 1}/{step.StepsPerEpoch}  loss {lossSum / seen:0.0000}  acc {100.0 * correct / seen:0.00}%  lr {step.LearningRate:G4}"));
        }
    }

    public void EpochCompleted(EpochReport e)
    {
        var test = double.IsNaN(e.TestLoss) ? "" : Invariant($"  test loss {e.TestLoss:0.0000}{Metrics(e.TestMetrics)}");
        Line(Invariant(
            $"epoch {e.Epoch}/{epochs}  lr {e.LearningRate:G4}  train loss {e.TrainLoss:0.0000}{Metrics(e.TrainMetrics)}{test}  {e.Seconds:0.0}s  {e.ImagesPerSecond:0} img/s"));
        ResetEpoch();
        if (epochTask is null) return;
        if (e.Epoch < epochs)
        {
            // e.Epoch counts from 1: the bar moves on to the next epoch, e.Epoch + 1 in its label.
            epochTask.Value = 0;
            epochTask.Description = EpochLabel(e.Epoch, 0, 0);
        }
        else
        {
            // The last epoch is done: the bar stays full on it rather than opening an epoch past the end.
            epochTask.Description = Markup.Escape(Invariant($"epoch {e.Epoch}/{epochs}"));
            epochTask.Value = epochTask.MaxValue;
            epochTask.StopTask();
        }
    }

    public void CheckpointSaved(string path, int epoch, int step) { }

    public void TrainingStopped(TrainingResult result)
    {
        StopDisplay();
        var color = result.Outcome switch
        {
            TrainingOutcome.Completed => "green",
            TrainingOutcome.Cancelled => "yellow",
            _ => "red",
        };
        if (interactive) console.MarkupLine($"[{color}]{Markup.Escape(result.Message)}[/]");
        else Line(result.Message);
    }

    public void Dispose() => StopDisplay();

    private void StopDisplay()
    {
        if (finished is null) return;
        finished.TrySetResult();
        try
        {
            display?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // A display that failed to draw must not hide how training ended.
        }
        finished = null;
        display = null;
        runTask = epochTask = null;
    }

    /// <summary>
    /// One line of text. With the live display Spectre lays it out above the bars; without it the line goes
    /// straight to the console's writer, so a CI log or <c>| tee</c> gets it unwrapped and free of markup.
    /// </summary>
    private void Line(string text)
    {
        if (interactive)
        {
            console.WriteLine(text);
            return;
        }
        var writer = console.Profile.Out.Writer;
        writer.WriteLine(text);
        writer.Flush();
    }

    private void ResetEpoch()
    {
        lossSum = 0;
        correct = 0;
        seen = 0;
    }

    /// <summary>
    /// The metrics after a loss, as percentages (the accuracies are fractions): top-1 accuracy as "acc", the others by
    /// name, e.g. " acc 98.10% top5_accuracy 99.90%" (the line reads as it did before metrics were apart from the loss).
    /// </summary>
    private static string Metrics(IReadOnlyList<MetricValue> metrics) => string.Concat(metrics.Select(m =>
        Invariant($" {(m.Name == Accuracy.DefaultName ? "acc" : m.Name)} {100 * m.Value:0.00}%")));

    /// <summary>The epoch bar's label; Spectre reads task descriptions as markup, hence the escape.</summary>
    private string EpochLabel(int epoch, double learningRate, int steps) => Markup.Escape(seen == 0
        ? Invariant($"epoch {epoch + 1}/{epochs}")
        : Invariant($"epoch {epoch + 1}/{epochs}  step {steps}  loss {lossSum / seen:0.0000}  acc {100.0 * correct / seen:0.0}%  lr {learningRate:G3}"));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
