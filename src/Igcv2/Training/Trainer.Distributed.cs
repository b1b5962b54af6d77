using Igcv2.Distributed;

namespace Igcv2.Training;

// Data-parallel training: what the trainer does when it is one of several processes. Each process trains on its
// share of every global batch; the loss gradient is scaled by the share (n / N), so the one allreduce of the
// gradient arena gives every process the global batch's mean gradient and the same update. With one process
// none of this runs.
public sealed partial class Trainer
{
    private readonly GradientReducer? gradients;
    private bool cancelAgreed;

    /// <summary>The processes this trainer trains with (one, unless constructed with a communicator).</summary>
    public ICommunicator Communicator { get; } = SingleProcessCommunicator.Instance;

    /// <summary>The gradient collective (null with one process): its <see cref="GradientReducer.Calls"/>, bytes and time.</summary>
    public GradientReducer? GradientReducer => gradients;

    private bool Distributed => Communicator.Size > 1;

    // Observers hear only process 0: every report is the global batch's, so one voice suffices.
    private IReadOnlyList<ITrainingObserver> Reporting => Communicator.Rank == 0 ? observers : [];

    private string DistributedDescription => Distributed
        ? $", {Communicator.Size} processes (global batch split {Communicator.Size} ways, BN {(Options.BatchNorm == BatchNormMode.Synchronized ? "synchronised" : "local")})"
        : "";

    private void StartDistributed()
    {
        if (!Distributed) return;
        // Start from one state, as DDP does: process 0's weights and BN statistics (the same seed gives the same
        // weights anyway; a resumed process read the same checkpoint).
        GradientReducer.BroadcastState(Model, Communicator);
        if (Options.BatchNorm == BatchNormMode.Synchronized) Model.Device.Ops.StatisticsReducer = Communicator;
    }

    private void StopDistributed()
    {
        if (Distributed && ReferenceEquals(Model.Device.Ops.StatisticsReducer, Communicator)) Model.Device.Ops.StatisticsReducer = null;
    }

    // Before a step: every process has a batch with at least one image; true when some process was cancelled.
    private bool StartStep(int count, CancellationToken cancellation)
    {
        Span<double> agreement = [1, count, count == 0 ? 1 : 0, cancellation.IsCancellationRequested ? 1 : 0];
        Communicator.AllreduceSum(agreement);
        if (agreement[0] != Communicator.Size)
        {
            throw new InvalidOperationException(
                $"Epoch {Epoch + 1}, step {Step}: {Communicator.Size - agreement[0]} of {Communicator.Size} processes ran out of data while the others had a batch; every process must serve the same number of batches.");
        }
        if (agreement[2] > 0)
        {
            throw new InvalidOperationException(
                $"Epoch {Epoch + 1}, step {Step}: a global batch of {agreement[1]} images leaves {agreement[2]} of {Communicator.Size} processes without one; use a batch of at least {Communicator.Size} images (or DropLast).");
        }
        cancelAgreed = agreement[3] > 0;
        return cancelAgreed;
    }

    // After this process's last batch: the others must have ended too.
    private void EndEpoch(int epoch, CancellationToken cancellation)
    {
        Span<double> agreement = [0, 0, 0, 0];
        Communicator.AllreduceSum(agreement);
        if (agreement[0] != 0)
        {
            throw new InvalidOperationException(
                $"Epoch {epoch + 1}, step {Step}: process {Communicator.Rank} ran out of data while {agreement[0]} of {Communicator.Size} processes still had a batch; every process must serve the same number of batches.");
        }
        // The epoch's last check for a cancellation: one process's request stops all after the epoch.
        Span<double> cancel = [cancellation.IsCancellationRequested ? 1 : 0];
        Communicator.AllreduceSum(cancel);
        cancelAgreed = cancel[0] > 0;
    }

    // The global batch's loss and metric sums (in place); scales this process's loss gradient by its share n / N.
    private (float Loss, int Count) SynchronizeLoss(float loss, double[] metricSums, int n, Tensor gradLogits)
    {
        var sums = new double[2 + metricSums.Length];
        sums[0] = (double)loss * n;
        sums[1] = n;
        metricSums.CopyTo(sums, 2);
        Communicator.AllreduceSum(sums);
        var total = (int)sums[1];
        if (total != n) Scale(gradLogits, n * Classes, (float)((double)n / total));
        sums.AsSpan(2).CopyTo(metricSums);
        return ((float)(sums[0] / total), total);
    }

    private static void Scale(Tensor t, int count, float factor)
    {
        if (t.Device.IsCpu)
        {
            foreach (ref var v in t.HostSpan[..count]) v *= factor;
            return;
        }
        var values = t.ToArray();
        for (var i = 0; i < count; i++) values[i] *= factor;
        t.CopyFrom(values);
    }

    // The global evaluation's loss sum and image count; the metric sums are summed in place.
    private (double LossSum, long Seen) SumEvaluation(double lossSum, double[] metricSums, long seen)
    {
        var sums = new double[2 + metricSums.Length];
        sums[0] = lossSum;
        sums[1] = seen;
        metricSums.CopyTo(sums, 2);
        Communicator.AllreduceSum(sums);
        sums.AsSpan(2).CopyTo(metricSums);
        return (sums[0], (long)sums[1]);
    }

    // Local BN: each process's running statistics saw only its share; process 0's are everyone's from here on
    // (DDP broadcasts buffers before every forward; once an epoch keeps evaluation and checkpoint consistent).
    private void ShareBatchNormBuffers()
    {
        if (Options.BatchNorm == BatchNormMode.Synchronized) return;
        foreach (var b in Model.Buffers) GradientReducer.Broadcast(b.Value, Communicator, 0);
    }
}
