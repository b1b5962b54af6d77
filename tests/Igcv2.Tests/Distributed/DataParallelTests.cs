using System.Globalization;
using Igcv2.Data;
using Igcv2.Distributed;

namespace Igcv2.Tests.Distributed;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MpiCollection
{
    public const string Name = "mpi";
}

/// <summary>
/// Real multi-process runs: <c>mpiexec -n 2</c> over the test host (tests/Igcv2.MpiHost: the library's Trainer and
/// DataLoader on a small IGCV2 network) and over the main job. They run alone (no other test competes for the 2
/// cores), each process with one CPU thread.
/// </summary>
[Collection(MpiCollection.Name)]
public sealed class DataParallelTests
{
    [Fact]
    public void TwoProcessesAverageTheGradientOfTheUnionBatchWithSynchronisedBatchNorm()
    {
        // A global batch of 11: the processes take 5 and 6 images, so the average must weigh the shares. lr 0: the
        // arena keeps the step's gradient.
        var alone = Host(0, "--steps 1 --lr 0");
        var sync = Host(2, "--steps 1 --lr 0 --bn sync");
        var local = Host(2, "--steps 1 --lr 0 --bn local");
        var count = GradientCount(alone);
        var reference = Read(alone, 0)[..count];
        var scale = reference.Max(MathF.Abs);
        Assert.True(scale > 0.01f, $"the reference gradient is {scale}: nothing to compare");
        Assert.Equal(Read(sync, 0), Read(sync, 1));
        var syncError = MaxDifference(reference, Read(sync, 0)[..count]);
        Assert.True(syncError <= 1e-5 * scale, $"synchronised BN: the 2-process gradient differs from the union batch's by {syncError} (largest gradient {scale})");
        // Without synchronised statistics the gradient is another one: the comparison above can tell.
        var localError = MaxDifference(reference, Read(local, 0)[..count]);
        Assert.True(localError > 1e-3 * scale, $"local BN: only {localError} from the union batch's gradient; the test would not see a missing synchronisation");
    }

    [Fact]
    public void WeightsAndBatchNormStatisticsAreBitIdenticalOnEveryProcessAfterSeveralSteps()
    {
        var run = Host(2, "--steps 6 --lr 0.1");
        var rank0 = File.ReadAllBytes(Path.Combine(run, "rank0.bin"));
        Assert.Equal(rank0, File.ReadAllBytes(Path.Combine(run, "rank1.bin")));
        Assert.Equal(6, File.ReadAllLines(Path.Combine(run, "losses.txt")).Length);
        Assert.Contains("allreduce_calls=6", File.ReadAllText(Path.Combine(run, "summary.txt")));
        // The weights moved: identical because they were updated identically, not because nothing happened.
        var start = Host(2, "--steps 6 --lr 0");
        Assert.NotEqual(Read(start, 0)[GradientCount(start)..], Read(run, 0)[GradientCount(run)..]);
    }

    [Fact]
    public void ResumeWorksWithAnotherProcessCount()
    {
        foreach (var (first, second) in new[] { (2, 0), (0, 2) })
        {
            var dir = MpiJob.TempDirectory("resume");
            var checkpoint = Path.Combine(dir, "checkpoint.safetensors");
            Host(first, $"--steps 4 --epochs 1 --checkpoint \"{checkpoint}\"", dir);
            var resumed = Host(second, $"--steps 4 --epochs 2 --checkpoint \"{checkpoint}\" --resume 1", Path.Combine(dir, "resumed"));
            var straight = Host(0, "--steps 4 --epochs 2");
            var a = Read(straight, 0);
            var b = Read(resumed, 0);
            var difference = MaxDifference(a, b);
            Assert.True(difference <= 1e-4 * a.Max(MathF.Abs), $"P={first} then P={second}: weights differ from an uninterrupted 1-process run by {difference}");
            // The resumed run logged only the second epoch's 4 steps, as the uninterrupted run's last 4.
            var resumedLosses = Losses(resumed);
            var straightLosses = Losses(straight);
            Assert.Equal(4, resumedLosses.Length);
            for (var i = 0; i < 4; i++) Assert.Equal(straightLosses[4 + i], resumedLosses[i], 1e-4);
        }
    }

    [Fact]
    public void AKilledProcessEndsTheWholeJobWithAnError()
    {
        var dir = MpiJob.TempDirectory("kill");
        var result = MpiJob.Run(2, MpiJob.Host, $"--out \"{dir}\" --steps 200 --kill-rank 1 --kill-step 2", timeoutSeconds: 60);
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains("process 1: killing itself", result.Output);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(30), result.ToString());
        Assert.False(File.Exists(Path.Combine(dir, "rank0.bin")), "process 0 went on after process 1 died");
    }

    [Fact]
    public void AThrowingProcessAbortsTheJobAndSaysWhichProcessFailed()
    {
        var dir = MpiJob.TempDirectory("throw");
        var result = MpiJob.Run(2, MpiJob.Host, $"--out \"{dir}\" --steps 200 --throw-rank 1 --throw-step 2", timeoutSeconds: 60);
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains("process 1 of 2", result.Output);
        Assert.Contains("injected failure before step 2", result.Output);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(30), result.ToString());
    }

    [Fact]
    public void AProcessThatRunsOutOfDataEndsTheJobInsteadOfHanging()
    {
        var dir = MpiJob.TempDirectory("short");
        var result = MpiJob.Run(2, MpiJob.Host, $"--out \"{dir}\" --steps 4 --short-rank 1", timeoutSeconds: 60);
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains("ran out of data", result.Output);
    }

    [Fact]
    public void TheMainJobOnTwoProcessesFollowsTheOneProcessLosses()
    {
        const string options = "--limit 256 --batch-size 32 --epochs 2";
        var one = MpiJob.TempDirectory("main1");
        var two = MpiJob.TempDirectory("main2");
        var alone = MpiJob.Run(0, MpiJob.MainJob, $"{options} --output \"{one}\"");
        Assert.True(alone.ExitCode == 0, alone.ToString());
        var pair = MpiJob.Run(2, MpiJob.MainJob, $"{options} --output \"{two}\"");
        Assert.True(pair.ExitCode == 0, pair.ToString());
        Assert.Contains("2 processes", pair.Output);
        // Process 0 alone reports: one line per epoch, not two.
        Assert.Single(pair.Output.Split('\n'), l => l.StartsWith("epoch 1/2", StringComparison.Ordinal));
        var a = Log(one);
        var b = Log(two);
        Assert.Equal(2, a.Length);
        Assert.Equal(2, b.Length);
        for (var e = 0; e < 2; e++)
        {
            // train_loss and test_loss: measured within 3e-5 of each other (float rounding in other orders).
            Assert.Equal(a[e][2], b[e][2], 1e-3);
            Assert.Equal(a[e][4], b[e][4], 1e-3);
        }
        Assert.True(File.Exists(Path.Combine(two, "checkpoint.safetensors")));
        Assert.True(File.Exists(Path.Combine(two, "curves.png")));
    }

    private static string Host(int processes, string arguments, string? output = null)
    {
        output ??= MpiJob.TempDirectory("host");
        var result = MpiJob.Run(processes, MpiJob.Host, $"--out \"{output}\" {arguments}");
        Assert.True(result.ExitCode == 0, result.ToString());
        return output;
    }

    private static float[] Read(string dir, int rank)
    {
        var bytes = File.ReadAllBytes(Path.Combine(dir, $"rank{rank}.bin"));
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    // rank<r>.bin holds the gradient arena, then the values arena, then the BN buffers; both arenas hold ParameterCount floats.
    private static int GradientCount(string dir) => Read(dir, 0).Length - 2 * checked((int)MpiTestNet.ParameterCount) > 0 ? checked((int)MpiTestNet.ParameterCount) : throw new InvalidDataException($"{dir}: rank0.bin is too short");

    private static float MaxDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0f;
        for (var i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    private static double[] Losses(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "losses.txt")).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();

    private static double[][] Log(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "log.csv")).Skip(1)
            .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
}

/// <summary>One process: the loader's shares and the communicator-free path.</summary>
public sealed class DataParallelShareTests
{
    [Theory]
    [InlineData(64, 2)]
    [InlineData(11, 2)]
    [InlineData(10, 3)]
    [InlineData(7, 4)]
    public void SharesOfABatchAreDisjointAndCoverIt(int count, int processes)
    {
        var next = 0;
        for (var r = 0; r < processes; r++)
        {
            var (start, share) = DataLoader.ShareOf(count, r, processes);
            Assert.Equal(next, start);
            Assert.InRange(share, count / processes, count / processes + 1);
            next = start + share;
        }
        Assert.Equal(count, next);
    }

    [Fact]
    public void TheProcessesShareOfEveryBatchAreTheOneProcessBatchesImages()
    {
        var data = MpiTestNet.SyntheticData(50, seed: 2);
        var augmentation = new AugmentationPipeline(new RandomAffine(10, 0.9, 1.1, 2));
        var whole = new DataLoader(data, 16, new DataLoaderOptions { Seed = 4, Augmentation = augmentation });
        var parts = Enumerable.Range(0, 3).Select(r => new DataLoader(data, 16, new DataLoaderOptions { Seed = 4, Augmentation = augmentation, Rank = r, Processes = 3 })).ToArray();
        Assert.Equal(6, parts[0].LocalBatchSize);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            var expected = whole.Epoch(epoch).ToArray();
            var shares = parts.Select(p => p.Epoch(epoch).ToArray()).ToArray();
            Assert.All(shares, s => Assert.Equal(whole.BatchesPerEpoch, s.Length));
            for (var b = 0; b < expected.Length; b++)
            {
                var images = shares.SelectMany(s => s[b].Images).ToArray();
                var labels = shares.SelectMany(s => s[b].Labels).ToArray();
                Assert.Equal(expected[b].Images, images);
                Assert.Equal(expected[b].Labels, labels);
            }
        }
    }

    [Fact]
    public void OneProcessCommunicatorLeavesTrainingBitIdentical()
    {
        using var device = Device.Create(DeviceKind.Cpu);
        var data = MpiTestNet.SyntheticData(44, seed: 5);
        var loader = new DataLoader(data, 11, new DataLoaderOptions { Seed = 3, Prefetch = 0 });
        float[] Train(ICommunicator? communicator)
        {
            using var model = new MpiTestNet(device, 11, seed: 1);
            var options = new Igcv2.Training.TrainerOptions { Epochs = 2, Seed = 3 };
            var loss = Igcv2.Training.LossFunction.From(device.Ops.SoftmaxCrossEntropy);
            using var trainer = communicator is null ? new Igcv2.Training.Trainer(model, loss, options) : new Igcv2.Training.Trainer(model, loss, options, communicator);
            trainer.Run(e => loader.Epoch(e), loader.BatchesPerEpoch);
            Assert.Null(device.Ops.StatisticsReducer);
            return model.Arena!.Values.ToArray().Concat(model.Buffers.SelectMany(b => b.GetValues())).ToArray();
        }
        Assert.Equal(Train(null), Train(SingleProcessCommunicator.Instance));
    }
}
