using Igcv2.Data;
using Igcv2.Training;

namespace Igcv2.Tests.Training;

public sealed class CheckpointTests : TrainingFixture
{
    private static void AssertSameState(IModel expected, IModel actual)
    {
        foreach (var (e, a) in expected.Parameters.Concat(expected.Buffers).Zip(actual.Parameters.Concat(actual.Buffers)))
        {
            Assert.Equal(e.Name, a.Name);
            Assert.Equal(e.GetValues(), a.GetValues());
        }
    }

    [Fact]
    public void A_checkpoint_restores_weights_buffers_momentum_position_and_history()
    {
        var path = Path.Combine(Folder, "run.safetensors");
        using var model = Model(seed: 1);
        using var trainer = new Trainer(model, new HostLossFunction(), Options(1, path));
        Run(trainer);

        using var fresh = Model(seed: 2);
        using var resumed = new Trainer(fresh, new HostLossFunction(), Options(3));
        Assert.NotEqual(model.Parameters[1].GetValues(), fresh.Parameters[1].GetValues());
        resumed.LoadCheckpoint(path);

        AssertSameState(model, fresh);
        foreach (var (p, q) in model.Parameters.Zip(fresh.Parameters))
        {
            Assert.Equal(trainer.Optimizer.MomentumOf(p).ToArray(), resumed.Optimizer.MomentumOf(q).ToArray());
            Assert.Contains(p.GetValues(), v => v != 0);
        }
        Assert.Equal((1, 0, 13L), (resumed.Epoch, resumed.Step, resumed.Iteration));
        Assert.Equal(trainer.History, resumed.History);
        var metadata = TrainingCheckpoint.ReadMetadata(path);
        Assert.Equal(ModelArchitecture.Of(model).Fingerprint, metadata["fingerprint"]);
        Assert.Equal("11", metadata["seed"]);
        Assert.Contains("nesterov=True", metadata["optimizer"]);
        Assert.Contains("optimizer.classifier.weight.momentum", SafeTensors.Load(path).Tensors.Keys);
    }

    [Fact]
    public void Resuming_after_an_epoch_continues_bit_for_bit()
    {
        var path = Path.Combine(Folder, "resume.safetensors");
        using var straightModel = Model();
        using var straight = new Trainer(straightModel, new HostLossFunction(), Options(2));
        var straightLosses = new LossRecorder();
        Run(straight.Observe(straightLosses));

        using (var firstModel = Model())
        using (var first = new Trainer(firstModel, new HostLossFunction(), Options(2, path) with { Epochs = 1 }))
        {
            Assert.True(Run(first).Completed); // the schedule still spans 2 epochs
        }
        using var resumedModel = Model(seed: 5);
        using var resumed = new Trainer(resumedModel, new HostLossFunction(), Options(2));
        resumed.LoadCheckpoint(path);
        Assert.Equal((1, 0), (resumed.Epoch, resumed.Step));
        var resumedLosses = new LossRecorder();
        var result = Run(resumed.Observe(resumedLosses));

        Assert.True(result.Completed);
        Assert.Equal(straightLosses.Steps.Where(s => s.Epoch == 1), resumedLosses.Steps);
        Assert.Equal(13, resumedLosses.Steps.Count);
        AssertSameState(straightModel, resumedModel);
        Assert.Equal(straight.History.Select(h => h with { Seconds = 0, ImagesPerSecond = 0 }),
            resumed.History.Select(h => h with { Seconds = 0, ImagesPerSecond = 0 }));
    }

    [Fact]
    public void Resuming_mid_epoch_after_a_cancel_continues_bit_for_bit()
    {
        var path = Path.Combine(Folder, "mid.safetensors");
        using var straightModel = Model();
        using var straight = new Trainer(straightModel, new HostLossFunction(), Options(2));
        var straightLosses = new LossRecorder();
        Run(straight.Observe(straightLosses));

        using (var firstModel = Model())
        using (var first = new Trainer(firstModel, new HostLossFunction(), Options(2, path)))
        {
            var cancel = new CancellationTokenSource();
            var stopped = Run(first.Observe(new CancelAfter(17, cancel)), cancel.Token);
            Assert.Equal(TrainingOutcome.Cancelled, stopped.Outcome);
        }
        using var resumedModel = Model(seed: 5);
        using var resumed = new Trainer(resumedModel, new HostLossFunction(), Options(2));
        resumed.LoadCheckpoint(path);
        Assert.Equal((1, 5, 18L), (resumed.Epoch, resumed.Step, resumed.Iteration));
        var resumedLosses = new LossRecorder();
        Run(resumed.Observe(resumedLosses));

        Assert.Equal(straightLosses.Steps.Skip(18), resumedLosses.Steps);
        AssertSameState(straightModel, resumedModel);
        Assert.Equal(straight.History[1].TrainLoss, resumed.History[1].TrainLoss);
        Assert.Equal(straight.History[1].TrainAccuracy, resumed.History[1].TrainAccuracy);
    }

    [Fact]
    public void Another_architecture_is_refused_naming_the_tensors_that_differ()
    {
        var path = Path.Combine(Folder, "four.safetensors");
        using var model = Model(classes: 4);
        using (var trainer = new Trainer(model, new HostLossFunction(), Options(1)))
        {
            trainer.SaveCheckpoint(path);
        }
        using var other = Model(classes: 3);
        using var otherTrainer = new Trainer(other, new HostLossFunction(), Options(1));

        var error = Assert.Throws<InvalidDataException>(() => otherTrainer.LoadCheckpoint(path));

        Assert.Contains("another architecture", error.Message);
        Assert.Contains("classifier.weight is [4, 32] in the file, [3, 32] in the model", error.Message);
        Assert.Contains("classifier.bias is [4] in the file, [3] in the model", error.Message);
        Assert.Contains("the plan differs", error.Message);
        var weightsError = Assert.Throws<InvalidDataException>(() => other.LoadWeights(path));
        Assert.Contains("classifier.weight is [4, 32] in the file, [3, 32] in the model", weightsError.Message);
    }

    [Fact]
    public void A_truncated_checkpoint_is_refused_and_the_model_is_untouched()
    {
        var path = Path.Combine(Folder, "cut.safetensors");
        using var model = Model(seed: 1);
        using (var trainer = new Trainer(model, new HostLossFunction(), Options(1)))
        {
            trainer.SaveCheckpoint(path);
        }
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        using var other = Model(seed: 2);
        var before = other.Parameters[1].GetValues();
        using var otherTrainer = new Trainer(other, new HostLossFunction(), Options(1));

        var error = Assert.Throws<InvalidDataException>(() => otherTrainer.LoadCheckpoint(path));

        Assert.Contains("truncated", error.Message);
        Assert.Equal(before, other.Parameters[1].GetValues());
    }

    [Fact]
    public void A_checkpoint_of_another_seed_or_a_weights_file_is_refused()
    {
        var checkpoint = Path.Combine(Folder, "seed.safetensors");
        var weights = Path.Combine(Folder, "weights.safetensors");
        using var model = Model();
        using (var trainer = new Trainer(model, new HostLossFunction(), Options(1)))
        {
            trainer.SaveCheckpoint(checkpoint);
        }
        model.SaveWeights(weights);
        using var trainer2 = new Trainer(model, new HostLossFunction(), Options(1) with { Seed = 12 });

        Assert.Contains("seed 11", Assert.Throws<InvalidDataException>(() => trainer2.LoadCheckpoint(checkpoint)).Message);
        Assert.Contains("not a training checkpoint", Assert.Throws<InvalidDataException>(() => trainer2.LoadCheckpoint(weights)).Message);
    }

    [Fact]
    public void Weights_round_trip_and_load_from_a_checkpoint_too()
    {
        var weights = Path.Combine(Folder, "w.safetensors");
        var checkpoint = Path.Combine(Folder, "c.safetensors");
        using var model = Model(seed: 1);
        using (var trainer = new Trainer(model, new HostLossFunction(), Options(1, checkpoint)))
        {
            Run(trainer);
        }
        model.SaveWeights(weights);

        using var a = Model(seed: 2);
        a.LoadWeights(weights);
        using var b = Model(seed: 3);
        b.LoadWeights(checkpoint);

        AssertSameState(model, a);
        AssertSameState(model, b);
        var file = SafeTensors.Load(weights);
        Assert.Equal(["classifier.bias", "classifier.weight", "norm.running_mean", "norm.weight"], file.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(ModelWeights.WeightsFormat, file.Metadata["format"]);
    }

    [Fact]
    public void A_NaN_loss_stops_with_its_step_and_keeps_the_last_good_checkpoint()
    {
        var path = Path.Combine(Folder, "guard.safetensors");
        var loss = new PoisonedLoss(epoch: 1, step: 4);
        using var model = Model();
        using var trainer = new Trainer(model, loss, Options(3, path));
        loss.Trainer = trainer;
        byte[]? good = null;
        trainer.Observe(new OnCheckpoint(() => good = File.ReadAllBytes(path)));
        var before = (float[]?)null;
        trainer.Observe(new OnStep(s => { if (s is { Epoch: 1, Step: 3 }) before = model.Parameters[1].GetValues(); }));

        var result = Run(trainer);

        Assert.Equal(TrainingOutcome.Diverged, result.Outcome);
        Assert.Equal(new Divergence(1, 4, 17, float.NaN), result.Divergence);
        Assert.Contains("epoch 2 at step 4", result.Message);
        Assert.Contains(path, result.Message);
        Assert.Single(result.History);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal("1", TrainingCheckpoint.ReadMetadata(path)["epoch"]);
        Assert.Equal(before, model.Parameters[1].GetValues());
    }

    [Fact]
    public void Flipped_bytes_in_a_checkpoint_are_refused_before_anything_changes_and_the_file_is_left_as_it_is()
    {
        var path = Path.Combine(Folder, "flipped.safetensors");
        using (var model = Model(seed: 1))
        using (var trainer = new Trainer(model, new HostLossFunction(), Options(2, path) with { Epochs = 1 }))
        {
            Run(trainer);
        }
        var corrupt = SafeTensorsFiles.FlipBytes(path, "classifier.weight", offset: 100, count: 64);
        using var other = Model(seed: 2);
        var before = other.Parameters.Select(p => p.GetValues()).ToList();
        using var otherTrainer = new Trainer(other, new HostLossFunction(), Options(2));

        var error = Assert.Throws<InvalidDataException>(() => otherTrainer.LoadCheckpoint(path));
        var weightsError = Assert.Throws<InvalidDataException>(() => other.LoadWeights(path));

        Assert.StartsWith(path + ": tensor 'classifier.weight'", error.Message);
        Assert.Contains("fails its checksum", error.Message);
        Assert.Equal(error.Message, weightsError.Message);
        Assert.Equal(before, other.Parameters.Select(p => p.GetValues()));
        Assert.Equal((0, 0, 0L), (otherTrainer.Epoch, otherTrainer.Step, otherTrainer.Iteration));
        Assert.Null(otherTrainer.LastCheckpoint);
        Assert.Equal(corrupt, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData("classifier.weight", float.NaN, true)]
    [InlineData("norm.running_mean", float.PositiveInfinity, true)]
    [InlineData("optimizer.classifier.bias.momentum", float.NaN, true)]
    [InlineData("classifier.weight", float.NaN, false)]
    public void A_non_finite_value_in_a_checkpoint_is_refused_naming_the_tensor_and_the_file_is_left_as_it_is(string tensor, float value, bool checksums)
    {
        var path = Path.Combine(Folder, "nan.safetensors");
        using (var model = Model(seed: 1))
        using (var trainer = new Trainer(model, new HostLossFunction(), Options(2, path) with { Epochs = 1 }))
        {
            Run(trainer);
        }
        // Written with valid checksums (or none): only the finite check can catch it.
        SafeTensorsFiles.SetValue(path, tensor, index: 3, value, checksums);
        var bytes = File.ReadAllBytes(path);
        using var other = Model(seed: 2);
        var before = other.Parameters.Select(p => p.GetValues()).ToList();
        using var otherTrainer = new Trainer(other, new HostLossFunction(), Options(2));

        var error = Assert.Throws<InvalidDataException>(() => otherTrainer.LoadCheckpoint(path));

        Assert.StartsWith($"{path}: tensor '{tensor}' holds {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} at index 3", error.Message);
        Assert.Equal(before, other.Parameters.Select(p => p.GetValues()));
        Assert.Equal(bytes, File.ReadAllBytes(path));
        if (!tensor.StartsWith("optimizer.", StringComparison.Ordinal))
        {
            Assert.Contains($"tensor '{tensor}'", Assert.Throws<InvalidDataException>(() => other.LoadWeights(path)).Message);
        }
        else
        {
            other.LoadWeights(path); // the weights file view leaves the optimizer state alone
        }
    }

    [Fact]
    public void A_checkpoint_without_checksums_still_resumes_bit_for_bit_and_says_it_was_not_verified()
    {
        var path = Path.Combine(Folder, "old.safetensors");
        using var straightModel = Model();
        using var straight = new Trainer(straightModel, new HostLossFunction(), Options(2));
        var straightLosses = new LossRecorder();
        Run(straight.Observe(straightLosses));
        using (var firstModel = Model())
        using (var first = new Trainer(firstModel, new HostLossFunction(), Options(2, path) with { Epochs = 1 }))
        {
            Run(first);
        }
        var file = SafeTensors.Load(path);
        SafeTensorsFiles.WriteWithoutChecksums(path, file.Tensors, file.Metadata);
        Assert.DoesNotContain(SafeTensors.ChecksumAlgorithmKey, SafeTensors.Load(path).Metadata.Keys);

        using var resumedModel = Model(seed: 5);
        using var resumed = new Trainer(resumedModel, new HostLossFunction(), Options(2));
        var loaded = resumed.LoadCheckpoint(path);
        var resumedLosses = new LossRecorder();
        Run(resumed.Observe(resumedLosses));

        Assert.False(loaded.ChecksumsVerified);
        Assert.Contains(path, loaded.Note);
        Assert.Contains("no checksums", loaded.Note);
        Assert.Equal(straightLosses.Steps.Where(s => s.Epoch == 1), resumedLosses.Steps);
        AssertSameState(straightModel, resumedModel);
        using var weights = Model(seed: 6);
        Assert.False(weights.LoadWeights(path).ChecksumsVerified);
        Assert.True(weights.LoadWeights(WriteCheckpoint(straight)).ChecksumsVerified);
    }

    [Fact]
    public void Non_finite_weights_write_no_checkpoint_and_the_divergence_names_the_last_good_one()
    {
        var path = Path.Combine(Folder, "guarded.safetensors");
        using var model = Model();
        using var trainer = new Trainer(model, new HostLossFunction(), Options(3, path));
        byte[]? good = null;
        trainer.Observe(new OnCheckpoint(() => good = File.ReadAllBytes(path)));
        // The last step of the second epoch leaves a NaN weight: its own loss was finite, the epoch's checkpoint is due.
        trainer.Observe(new OnStep(s =>
        {
            if (s is { Epoch: 1, Step: 12 })
            {
                var w = model.Parameters[1].GetValues();
                w[7] = float.NaN;
                model.Parameters[1].SetValues(w);
            }
        }));

        var result = Run(trainer);

        Assert.Equal(TrainingOutcome.Diverged, result.Outcome);
        Assert.Equal(model.Parameters[1].Name, result.Divergence?.NonFiniteTensor);
        Assert.Equal((2, 0, 26L), (result.Divergence!.Epoch, result.Divergence.Step, result.Divergence.Iteration));
        Assert.True(float.IsFinite(result.Divergence.Loss));
        Assert.Contains($"{model.Parameters[1].Name}[7] = NaN", result.Message);
        Assert.Contains($"the last good checkpoint {path} is kept", result.Message);
        Assert.Equal(path, result.LastCheckpoint);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal("1", TrainingCheckpoint.ReadMetadata(path)["epoch"]);
        var error = Assert.Throws<NonFiniteStateException>(() => trainer.SaveCheckpoint(Path.Combine(Folder, "never.safetensors")));
        Assert.Equal(7, error.Index);
        Assert.False(File.Exists(Path.Combine(Folder, "never.safetensors")));
    }

    [Fact]
    public void Cancelling_during_the_evaluation_resumes_at_the_evaluation_bit_for_bit()
    {
        var path = Path.Combine(Folder, "eval.safetensors");
        using var straightModel = Model();
        using var straight = new Trainer(straightModel, new HostLossFunction(), Options(2));
        Run(straight);

        TrainingResult stopped;
        using (var firstModel = Model())
        using (var first = new Trainer(firstModel, new HostLossFunction(), Options(2, path)))
        {
            var cancel = new CancellationTokenSource();
            var test = CancelWhileEnumerating(Test.InOrder(BatchSize), () => first.Epoch == 1, cancel);
            stopped = first.Run(epoch => Train.Epoch(Seed, epoch, BatchSize), Train.StepsPerEpoch(BatchSize), test, cancel.Token);
        }
        using var resumedModel = Model(seed: 5);
        using var resumed = new Trainer(resumedModel, new HostLossFunction(), Options(2));
        resumed.LoadCheckpoint(path);
        var position = (resumed.Epoch, resumed.Step, resumed.Iteration);
        var resumedLosses = new LossRecorder();
        var result = Run(resumed.Observe(resumedLosses));

        Assert.Equal(TrainingOutcome.Cancelled, stopped.Outcome);
        Assert.Contains("in epoch 2 after its last step, before its evaluation", stopped.Message);
        Assert.Single(stopped.History);
        Assert.Equal((1, 13, 26L), position);
        Assert.Empty(resumedLosses.Steps);
        Assert.True(result.Completed);
        AssertSameState(straightModel, resumedModel);
        Assert.Equal(straight.History.Select(h => h with { Seconds = 0, ImagesPerSecond = 0 }),
            resumed.History.Select(h => h with { Seconds = 0, ImagesPerSecond = 0 }));
    }

    [Fact]
    public void A_resume_mid_epoch_asks_a_two_argument_data_seam_for_the_next_batch_on()
    {
        var path = Path.Combine(Folder, "seam.safetensors");
        using (var firstModel = Model())
        using (var first = new Trainer(firstModel, new HostLossFunction(), Options(2, path)))
        {
            var cancel = new CancellationTokenSource();
            Run(first.Observe(new CancelAfter(4, cancel)), cancel.Token);
        }
        using var resumedModel = Model(seed: 5);
        using var resumed = new Trainer(resumedModel, new HostLossFunction(), Options(2));
        resumed.LoadCheckpoint(path);
        var asked = new List<(int Epoch, int Start)>();
        var steps = new LossRecorder();

        resumed.Observe(steps).Run((epoch, start) =>
        {
            asked.Add((epoch, start));
            return Train.Epoch(Seed, epoch, BatchSize).Skip(start);
        }, Train.StepsPerEpoch(BatchSize), Test.InOrder(BatchSize));

        Assert.Equal([(0, 5), (1, 0)], asked);
        Assert.Equal(13 - 5 + 13, steps.Steps.Count);
    }

    private string WriteCheckpoint(Trainer trainer)
    {
        var path = Path.Combine(Folder, Guid.NewGuid().ToString("N") + ".safetensors");
        trainer.SaveCheckpoint(path);
        return path;
    }

    /// <summary>Cancels <paramref name="source"/> after the first batch of the enumeration during which <paramref name="when"/> holds.</summary>
    private static IEnumerable<Batch> CancelWhileEnumerating(IEnumerable<Batch> batches, Func<bool> when, CancellationTokenSource source)
    {
        var first = true;
        foreach (var batch in batches)
        {
            yield return batch;
            if (first && when()) source.Cancel();
            first = false;
        }
    }

    private sealed class OnCheckpoint(Action action) : ITrainingObserver
    {
        public void CheckpointSaved(string path, int epoch, int step) => action();
    }

    private sealed class OnStep(Action<StepReport> action) : ITrainingObserver
    {
        public void StepCompleted(in StepReport step) => action(step);
    }
}
