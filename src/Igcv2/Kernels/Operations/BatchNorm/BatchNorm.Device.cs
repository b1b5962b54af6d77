using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace Igcv2.Kernels;

// BN_l's ILGPU kernels: the reductions give one group a channel (its threads stride over the channel's values,
// ILGPU.Algorithms' group Reduce adds them in a fixed tree); the element-wise passes are grid-stride.
internal static partial class BatchNorm
{
    // y = (x - mean) * invStd * gamma + beta, per element.
    [DeviceKernel]
    public static void NormalizeKernel(Index1D index, int total, int stride, int channels, int plane,
        ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int c = (i / plane) % channels;
            var (scale, shift) = BatchNormStatistics.ScaleShift(gamma[c], beta[c], mean[c], invStd[c]);
            y[i] = x[i] * scale + shift;
        }
    }

    [DeviceKernel]
    public static void InferenceKernel(Index1D index, int total, int stride, int channels, int plane, float epsilon,
        ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int c = (i / plane) % channels;
            var (scale, shift) = BatchNormStatistics.InferenceScaleShift(gamma[c], beta[c], runningMean[c], runningVar[c], epsilon);
            y[i] = x[i] * scale + shift;
        }
    }

    // gx = gamma * invStd * (gy - gBeta/m - xhat * gGamma/m), the batch-statistics gradient, as A gy + B x + C (BatchNormStatistics).
    [DeviceKernel]
    public static void BackwardInputKernel(Index1D index, int total, int stride, int channels, int plane, float m,
        ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gamma, ArrayView<float> savedMean, ArrayView<float> savedInvStd,
        ArrayView<float> gGamma, ArrayView<float> gBeta, ArrayView<float> gx)
    {
        for (int i = index; i < total; i += stride)
        {
            int c = (i / plane) % channels;
            var k = BatchNormStatistics.Backward(m, gamma[c], savedMean[c], savedInvStd[c], gBeta[c], gGamma[c]);
            gx[i] = k.A * gy[i] + k.B * x[i] + k.C;
        }
    }

    // One group per channel: the shifted sums in double, running statistics PyTorch-style.
    [DeviceKernel]
    public static void StatisticsGrouped(int channels, int n, int plane, float momentum, float epsilon,
        ArrayView<float> x, ArrayView<float> savedMean, ArrayView<float> savedInvStd,
        ArrayView<float> runningMean, ArrayView<float> runningVar)
    {
        // One group per channel, one pass: the sums around the channel's first value (BatchNormStatistics).
        int count = n * plane;
        for (int c = Grid.IdxX; c < channels; c += Grid.DimX)
        {
            float shift = x[c * plane];
            double s1 = 0.0, s2 = 0.0;
            for (int r = Group.IdxX; r < count; r += Group.DimX)
            {
                double d = x[((r / plane) * channels + c) * plane + r % plane] - shift;
                s1 += d;
                s2 += d * d;
            }
            double sum = GroupExtensions.Reduce<double, AddDouble>(s1);
            double squares = GroupExtensions.Reduce<double, AddDouble>(s2);
            if (Group.IsFirstThread)
            {
                var moments = BatchNormStatistics.Finish(count, shift, sum, squares, momentum, epsilon, runningMean[c], runningVar[c]);
                savedMean[c] = moments.Mean;
                savedInvStd[c] = moments.InvStd;
                runningMean[c] = moments.RunningMean;
                runningVar[c] = moments.RunningVar;
            }
            Group.Barrier();
        }
    }

    // One group per channel: gBeta = sum gy, gGamma = sum gy * xhat.
    [DeviceKernel]
    public static void BackwardReduceGrouped(int channels, int n, int plane,
        ArrayView<float> x, ArrayView<float> gy, ArrayView<float> savedMean, ArrayView<float> savedInvStd,
        ArrayView<float> gGamma, ArrayView<float> gBeta)
    {
        int count = n * plane;
        for (int c = Grid.IdxX; c < channels; c += Grid.DimX)
        {
            float mean = savedMean[c];
            double sumGy = 0.0;
            double sumGyXc = 0.0;
            for (int r = Group.IdxX; r < count; r += Group.DimX)
            {
                int i = ((r / plane) * channels + c) * plane + r % plane;
                float g = gy[i];
                sumGy += g;
                sumGyXc += g * (x[i] - mean);
            }
            FinishBackwardSums(c, sumGy, sumGyXc, savedInvStd, gGamma, gBeta);
        }
    }

    /// <summary>
    /// A group's partial sums of BN channel c, G and sum gy (x - mean), added up and written as gBeta = G and
    /// gGamma = H (their invStd multiple); shared with the fused act' + P^-1 + BN backward's reduction.
    /// </summary>
    internal static void FinishBackwardSums(int c, double sumGy, double sumGyXc, ArrayView<float> savedInvStd, ArrayView<float> gGamma, ArrayView<float> gBeta)
    {
        double beta = GroupExtensions.Reduce<double, AddDouble>(sumGy);
        double gamma = GroupExtensions.Reduce<double, AddDouble>(sumGyXc);
        if (Group.IsFirstThread)
        {
            gBeta[c] = (float)beta;
            gGamma[c] = (float)(gamma * savedInvStd[c]);
        }
        Group.Barrier();
    }
}
