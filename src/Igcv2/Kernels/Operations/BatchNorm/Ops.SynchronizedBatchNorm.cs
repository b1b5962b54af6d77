using ILGPU;
using ILGPU.Runtime;

namespace Igcv2.Kernels;

// Synchronised batch norm (data-parallel training): the path BatchNormTraining and BatchNormBackward take when a
// StatisticsReducer is set. Each process computes per-channel partial sums of its share of the batch in double on
// the host, the reducer sums them over the processes, and every process normalises (and back-propagates) with the
// statistics of the global batch. Without a reducer none of this runs: the one-process path stays as it was.
public sealed partial class Ops
{
    /// <summary>
    /// When set, batch norm in training mode uses the statistics of the global batch of a data-parallel job:
    /// per-channel (count, sum and sum of squares around the running mean) are summed across processes in the forward
    /// pass, (count, sum gy, sum gy (x - mean)) in the backward pass. Null (the default): local statistics.
    /// </summary>
    internal IStatisticsReducer? StatisticsReducer { get; set; }

    private void SynchronizedBatchNormTraining(IStatisticsReducer reducer, Tensor x, Tensor? gamma, Tensor? beta, Tensor? y, Tensor savedMean,
        Tensor savedInvStd, Tensor runningMean, Tensor runningVar, int n, float momentum, float epsilon, Epilogue epilogue)
    {
        int channels = x.Dim(1), plane = x.Dim(2) * x.Dim(3);
        var xs = HostValuesOf(x, n * channels * plane);
        // One collective: per channel S1 and S2 around the running mean, the same number on every process
        // (BatchNormStatistics), and the count.
        var shifts = runningMean.ToArray();
        var sums = new double[2 * channels + 1];
        sums[2 * channels] = (double)n * plane;
        Parallel.For(0, channels, c =>
        {
            double s1 = 0, s2 = 0;
            float r = shifts[c];
            for (int i = 0; i < n; i++)
            {
                foreach (var v in xs.Slice((i * channels + c) * plane, plane))
                {
                    double d = v - r;
                    s1 += d;
                    s2 += d * d;
                }
            }
            sums[c] = s1;
            sums[channels + c] = s2;
        });
        reducer.SumStatistics(sums);
        double m = sums[2 * channels];
        if (m < 2)
        {
            throw new ArgumentException($"{nameof(BatchNormTraining)}: synchronised batch statistics need more than one value per channel over all processes, got {m}.", nameof(n));
        }
        var means = new float[channels];
        var invStd = new float[channels];
        var rm = new float[channels];
        var rv = runningVar.ToArray();
        for (int c = 0; c < channels; c++)
        {
            var moments = BatchNormStatistics.Finish(m, shifts[c], sums[c], sums[channels + c], momentum, epsilon, shifts[c], rv[c]);
            means[c] = moments.Mean;
            invStd[c] = moments.InvStd;
            rm[c] = moments.RunningMean;
            rv[c] = moments.RunningVar;
        }
        GC.KeepAlive(xs.Keep);
        savedMean.CopyFrom(means);
        savedInvStd.CopyFrom(invStd);
        runningMean.CopyFrom(rm);
        runningVar.CopyFrom(rv);
        if (y is null) return; // the statistics alone
        backend.Run(new BatchNorm.SynchronizedNormalize(n, channels, plane, x, gamma!, beta!, savedMean, savedInvStd, y, epilogue, means, invStd));
    }

    private void SynchronizedBatchNormBackward(IStatisticsReducer reducer, Tensor x, Tensor gy, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
        Tensor gx, Tensor gGamma, Tensor gBeta, int n)
    {
        int channels = x.Dim(1), plane = x.Dim(2) * x.Dim(3);
        int length = n * channels * plane;
        var xs = HostValuesOf(x, length);
        var gys = HostValuesOf(gy, length);
        var mean = savedMean.ToArray();
        var invStd = savedInvStd.ToArray();
        // This process's sums: its own share of gGamma and gBeta (the gradient collective adds the shares) ...
        var sums = new double[2 * channels + 1];
        sums[2 * channels] = (double)n * plane;
        Parallel.For(0, channels, c =>
        {
            double sg = 0, sgx = 0;
            float mu = mean[c];
            for (int i = 0; i < n; i++)
            {
                int b = (i * channels + c) * plane;
                var g = gys.Slice(b, plane);
                var v = xs.Slice(b, plane);
                for (int p = 0; p < plane; p++)
                {
                    sg += g[p];
                    sgx += (double)g[p] * (v[p] - mu);
                }
            }
            sums[c] = sg;
            sums[channels + c] = sgx * invStd[c];
        });
        gBeta.CopyFrom(sums.AsSpan(0, channels).ToArray().Select(v => (float)v).ToArray());
        gGamma.CopyFrom(sums.AsSpan(channels, channels).ToArray().Select(v => (float)v).ToArray());
        GC.KeepAlive(xs.Keep);
        GC.KeepAlive(gys.Keep);
        // ... and the global ones, which the input gradient needs.
        reducer.SumStatistics(sums);
        double m = sums[2 * channels];
        backend.Run(new BatchNorm.SynchronizedBackwardInput(n, channels, plane, m, sums, mean, invStd, x, gy, gamma, savedMean, savedInvStd, gx));
    }

    // The first `length` values of t on the host: the memory itself on the CPU device (ILGPU's CPU buffers are
    // native memory that does not move), a pinned copy elsewhere.
    private static unsafe HostValues HostValuesOf(Tensor t, int length)
    {
        if (t.Device.IsCpu)
        {
            fixed (float* p = t.HostSpan) return new HostValues((nint)p, null);
        }
        var copy = GC.AllocateUninitializedArray<float>(checked((int)t.Length), pinned: true);
        t.CopyTo(copy);
        fixed (float* p = copy) return new HostValues((nint)p, copy);
    }

    private readonly unsafe record struct HostValues(nint Pointer, float[]? Keep)
    {
        public ReadOnlySpan<float> Slice(int start, int length) => new((float*)Pointer + start, length);
    }
}
