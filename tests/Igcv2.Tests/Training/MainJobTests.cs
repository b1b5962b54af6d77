using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Igcv2.Tests.Training;

/// <summary>
/// The faults a user meets through the main job (samples/Igcv2.Train), run as a real process on the CPU
/// device: Ctrl+C (a real SIGINT) and SIGTERM mid-epoch, then <c>--resume</c>; corrupt checkpoints refused.
/// One uninterrupted run (<see cref="MainJobReference"/>) is the reference the others are compared with.
/// </summary>
public sealed class MainJobTests(MainJobReference reference) : IClassFixture<MainJobReference>, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("igcv2-mainjob-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Ctrl_C_mid_epoch_writes_a_mid_epoch_checkpoint_and_resume_matches_an_uninterrupted_run_bit_for_bit()
    {
        var output = Path.Combine(folder, "interrupted");
        using (var run = MainJob.Start(output))
        {
            run.WaitForLine(l => l.Contains("epoch 2 step 10/", StringComparison.Ordinal));
            run.Signal("INT");
            run.WaitForExit();

            Assert.Equal(130, run.ExitCode);
            Assert.Contains(run.Errors, l => l.StartsWith("Ctrl+C: stopping at the next step", StringComparison.Ordinal));
            Assert.Contains(run.Errors, l => l.StartsWith("Interrupted by SIGINT: run the same command with --resume", StringComparison.Ordinal));
            Assert.Contains("mid-epoch checkpoint", run.Text);
        }
        var checkpoint = Path.Combine(output, "checkpoint.safetensors");
        var stoppedAt = SafeTensors.Load(checkpoint).Metadata;
        Assert.Equal("1", stoppedAt["epoch"]);
        var step = int.Parse(stoppedAt["step"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(step, 10, MainJob.StepsPerEpoch - 1); // mid-epoch, not the epoch boundary

        using (var resumed = MainJob.Start(output, "--resume"))
        {
            resumed.WaitForExit();
            Assert.Equal(0, resumed.ExitCode);
            Assert.Contains(resumed.Lines, l => l.StartsWith($"Resumed from {checkpoint} at epoch 2, step {step} of {MainJob.StepsPerEpoch} (mid-epoch).", StringComparison.Ordinal));
        }
        MainJob.AssertSameTraining(reference.Checkpoint, checkpoint);
    }

    [Fact]
    public void SIGTERM_mid_epoch_writes_a_mid_epoch_checkpoint_and_exits_143()
    {
        var output = Path.Combine(folder, "terminated");
        using var run = MainJob.Start(output, "--epochs", "1");
        run.WaitForLine(l => l.Contains("epoch 1 step 10/", StringComparison.Ordinal));
        run.Signal("TERM");
        run.WaitForExit();

        Assert.Equal(143, run.ExitCode);
        Assert.Contains(run.Errors, l => l.StartsWith("Interrupted by SIGTERM", StringComparison.Ordinal));
        var metadata = SafeTensors.Load(Path.Combine(output, "checkpoint.safetensors")).Metadata;
        Assert.Equal("0", metadata["epoch"]);
        Assert.InRange(int.Parse(metadata["step"], System.Globalization.CultureInfo.InvariantCulture), 10, MainJob.StepsPerEpoch - 1);
    }

    [Fact]
    public void A_second_Ctrl_C_exits_at_once_and_leaves_the_last_checkpoint_as_it_was()
    {
        // The two signals can still land far apart on a loaded machine (or merge into one), after the first one's
        // graceful stop already finished, or after it wrote its checkpoint (checkpoints are replaced whole, by a rename)
        // but before it printed: such an attempt says nothing about the second Ctrl+C and is run again. A second Ctrl+C
        // that does not exit at once makes every attempt graceful, and the test fails.
        for (var attempt = 1; ; attempt++)
        {
            var output = Path.Combine(folder, $"twice{attempt}");
            Directory.CreateDirectory(output);
            var checkpoint = Path.Combine(output, "checkpoint.safetensors");
            File.Copy(reference.Checkpoint, checkpoint);
            var before = File.ReadAllBytes(checkpoint);
            using var run = MainJob.Start(output, "--resume", "--epochs", "3");
            run.WaitForLine(l => l.Contains("epoch 3 step 5/", StringComparison.Ordinal));
            run.SignalTwice("INT");
            run.WaitForExit();

            Assert.NotEqual(0, run.ExitCode);
            var graceful = run.Errors.Any(l => l.StartsWith("Interrupted by", StringComparison.Ordinal));
            var after = File.ReadAllBytes(checkpoint);
            var firstSaved = !after.AsSpan().SequenceEqual(before);
            // Whichever happened, the file on disk is a whole checkpoint, never a torn one.
            Assert.NotEmpty(SafeTensors.Load(checkpoint).Tensors);
            if ((graceful || firstSaved) && attempt < 3) continue;
            Assert.False(graceful, "three times the first Ctrl+C finished its stop before the second took effect");
            Assert.False(firstSaved, "three times the first Ctrl+C wrote its checkpoint before the second took effect");
            Assert.DoesNotContain("mid-epoch checkpoint", run.Text);
            return;
        }
    }

    [Fact]
    public void Resume_refuses_a_checkpoint_with_flipped_bytes_in_one_line_naming_the_file_and_the_tensor_and_leaves_it_as_it_is()
    {
        var output = Path.Combine(folder, "flipped");
        Directory.CreateDirectory(output);
        var checkpoint = Path.Combine(output, "checkpoint.safetensors");
        File.Copy(reference.Checkpoint, checkpoint);
        var tensor = SafeTensors.Load(checkpoint).Tensors.Keys.Order(StringComparer.Ordinal).First(n => n.EndsWith(".weight", StringComparison.Ordinal) && !n.StartsWith("optimizer.", StringComparison.Ordinal));
        var corrupt = SafeTensorsFiles.FlipBytes(checkpoint, tensor, offset: 0, count: 64);

        using var run = MainJob.Start(output, "--resume");
        run.WaitForExit();

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.Errors);
        Assert.StartsWith($"error: {checkpoint}: tensor '{tensor}'", error);
        Assert.Contains("fails its checksum", error);
        Assert.Equal(corrupt, File.ReadAllBytes(checkpoint));
        Assert.DoesNotContain(run.Lines, l => l.StartsWith("Resumed", StringComparison.Ordinal));
    }

    [Fact]
    public void Resume_refuses_a_checkpoint_holding_a_NaN_weight_and_leaves_it_as_it_is()
    {
        var output = Path.Combine(folder, "nan");
        Directory.CreateDirectory(output);
        var checkpoint = Path.Combine(output, "checkpoint.safetensors");
        File.Copy(reference.Checkpoint, checkpoint);
        var tensor = SafeTensors.Load(checkpoint).Tensors.Keys.Order(StringComparer.Ordinal).Last(n => n.EndsWith(".weight", StringComparison.Ordinal) && !n.StartsWith("optimizer.", StringComparison.Ordinal));
        // A NaN with valid checksums: what a diverged run of an older version, or another tool, could have written.
        SafeTensorsFiles.SetValue(checkpoint, tensor, index: 5, float.NaN, checksums: true);
        var bytes = File.ReadAllBytes(checkpoint);

        using var run = MainJob.Start(output, "--resume");
        run.WaitForExit();

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.Errors);
        Assert.StartsWith($"error: {checkpoint}: tensor '{tensor}' holds NaN at index 5", error);
        Assert.Equal(bytes, File.ReadAllBytes(checkpoint));
    }
}

/// <summary>The uninterrupted run (2 epochs) that the main-job tests compare with and start from.</summary>
public sealed class MainJobReference : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("igcv2-mainjob-reference-").FullName;

    public MainJobReference()
    {
        var output = Path.Combine(folder, "straight");
        using (var run = MainJob.Start(output))
        {
            run.WaitForExit();
            Assert.True(run.ExitCode == 0, $"The reference run failed ({run.ExitCode}).\n{run.Text}\n{string.Join('\n', run.Errors)}");
        }
        Checkpoint = Path.Combine(output, "checkpoint.safetensors");
    }

    /// <summary>After both epochs.</summary>
    public string Checkpoint { get; }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}

/// <summary>The built main job as a child process, its output lines collected as they come.</summary>
internal sealed class MainJob : IDisposable
{
    /// <summary>960 digits in batches of 16.</summary>
    public const int StepsPerEpoch = 60;

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private readonly Process process;
    private readonly BlockingCollection<string> pending = [];
    private readonly ConcurrentQueue<string> lines = new();
    private readonly ConcurrentQueue<string> errors = new();

    private MainJob(Process process) => this.process = process;

    public IReadOnlyCollection<string> Lines => lines;

    public IReadOnlyCollection<string> Errors => errors;

    public string Text => string.Join('\n', lines);

    public int ExitCode => process.ExitCode;

    /// <summary>Starts the main job on the CPU: 2 epochs of 960 digits, a progress line every 5 steps.</summary>
    public static MainJob Start(string output, params string[] extra)
    {
        var dll = Locate();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        string[] arguments = ["--device", "cpu", "--limit", "960", "--batch-size", "16", "--seed", "3", "--log-every", "5", "--output", output];
        foreach (var a in arguments.Concat(extra.Contains("--epochs") ? extra : [.. extra, "--epochs", "2"])) start.ArgumentList.Add(a);
        var process = new Process { StartInfo = start };
        var job = new MainJob(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            job.lines.Enqueue(e.Data);
            job.pending.Add(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) job.errors.Enqueue(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return job;
    }

    /// <summary>Blocks until a line of standard output satisfies <paramref name="match"/>; fails if the process ends first.</summary>
    public void WaitForLine(Func<string, bool> match)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (pending.TryTake(out var line, TimeSpan.FromMilliseconds(200)))
            {
                if (match(line)) return;
            }
            else if (process.HasExited)
            {
                Assert.Fail($"The main job exited ({process.ExitCode}) before the expected line.\n{Text}\n{string.Join('\n', errors)}");
            }
        }
        Assert.Fail($"No expected line within {Timeout}.\n{Text}");
    }

    /// <summary>Sends a real signal (kill -INT / -TERM) to the process.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", $"-{name} {process.Id}");
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>
    /// Sends the signal twice from one shell, 10 ms apart: apart enough that the kernel does not merge the two (a
    /// pending signal absorbs its repeat), close enough that the first one's graceful stop (a step and a checkpoint)
    /// is still running when the second lands; two `kill` processes started one after the other can be a step apart
    /// on a loaded machine.
    /// </summary>
    public void SignalTwice(string name)
    {
        var start = new ProcessStartInfo("sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"kill -{name} {process.Id} && sleep 0.01 && kill -{name} {process.Id}");
        using var kill = Process.Start(start)!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    public void WaitForExit()
    {
        if (!process.WaitForExit(Timeout)) Assert.Fail($"The main job did not exit within {Timeout}.\n{Text}");
        process.WaitForExit(); // drains the redirected output
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
        pending.Dispose();
    }

    /// <summary>Same weights, BN statistics, momentum, position and per-epoch numbers, bit for bit.</summary>
    public static void AssertSameTraining(string expectedPath, string actualPath)
    {
        var expected = SafeTensors.Load(expectedPath);
        var actual = SafeTensors.Load(actualPath);
        Assert.Equal(expected.Tensors.Keys.Order(StringComparer.Ordinal), actual.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, (_, data)) in expected.Tensors)
        {
            Assert.True(data.AsSpan().SequenceEqual(actual.Tensors[name].data), $"{name} differs from the uninterrupted run's.");
        }
        foreach (var key in new[] { "epoch", "step", "iteration" }) Assert.Equal(expected.Metadata[key], actual.Metadata[key]);
        Assert.Equal(Epochs(expected), Epochs(actual));
    }

    /// <summary>The history without its timings, as the exact text of each number.</summary>
    private static List<string> Epochs(SafeTensorsFile file)
    {
        using var history = JsonDocument.Parse(file.Metadata["history"]);
        return history.RootElement.EnumerateArray()
            .Select(e => string.Join(' ', new[] { "epoch", "learning_rate", "train_loss", "train_accuracy", "test_loss", "test_accuracy" }
                .Select(k => e.GetProperty(k).GetRawText())))
            .ToList();
    }

    private static string Locate()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        // tests/Igcv2.Tests/bin/<Configuration>/net10.0/: the main job was built beside, in the same configuration.
        var configuration = directory.Parent!.Name;
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Igcv2Gen.sln"))) directory = directory.Parent;
        Assert.NotNull(directory);
        var dll = Path.Combine(directory.FullName, "samples", "Igcv2.Train", "bin", configuration, "net10.0", "Igcv2.Train.dll");
        Assert.True(File.Exists(dll), $"The main job is not built at {dll}.");
        return dll;
    }
}
