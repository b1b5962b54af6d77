namespace Igcv2.Kernels;

/// <summary>
/// BN_l's batch statistics and its backward coefficients: one algorithm for the host loop, the ILGPU kernels and
/// the batch norm synchronised over processes, which differ only in how they add up their sums.
/// <para>
/// Forward: one pass over the m values of a channel accumulates S1 = sum (x - r) and S2 = sum (x - r)^2 around a
/// shift r; then mean = r + S1 / m and sum (x - mean)^2 = S2 - S1^2 / m. A shift near the data keeps the single pass
/// accurate even where the mean is far from zero relative to the spread (it is exact for a constant channel). On one
/// process r is the channel's first value (sample 0, position 0); the host adds float lanes per plane and doubles
/// across planes, the ILGPU kernel adds doubles. Synchronised BN needs the same r on every process, so that the
/// processes' sums add up in one collective: there r is the running mean, and the sums are doubles.
/// </para>
/// <para>
/// Backward: with G = sum gy and H = sum gy (x - mean) invStd (gBeta and gGamma), the input gradient
/// gx = gamma invStd (gy - G / m - xhat H / m) is written as A gy + B x + C per channel.
/// </para>
/// </summary>
internal static class BatchNormStatistics
{
    /// <summary>The mean, 1 / sqrt(var + eps) and the updated running statistics of one channel.</summary>
    public struct Moments
    {
        public float Mean;
        public float InvStd;
        public float RunningMean;
        public float RunningVar;
    }

    /// <summary>From the count m and the sums S1, S2 around <paramref name="shift"/>.</summary>
    public static Moments Finish(double m, float shift, double s1, double s2, float momentum, float epsilon, float runningMean, float runningVar)
    {
        double mean = shift + s1 / m;
        double squares = s2 - s1 * (s1 / m);
        if (squares < 0.0) squares = 0.0;
        double variance = squares / m;
        double unbiased = m > 1.0 ? squares / (m - 1.0) : variance;
        Moments result;
        result.Mean = (float)mean;
        result.InvStd = (float)(1.0 / Math.Sqrt(variance + epsilon));
        // PyTorch's update, with the unbiased variance for the running one.
        result.RunningMean = (float)((1.0 - momentum) * runningMean + momentum * mean);
        result.RunningVar = (float)((1.0 - momentum) * runningVar + momentum * unbiased);
        return result;
    }

    /// <summary>BN as y = x scale + shift with the batch statistics: scale = gamma invStd, shift = beta - mean scale.</summary>
    public static (float Scale, float Shift) ScaleShift(float gamma, float beta, float mean, float invStd)
    {
        float scale = gamma * invStd;
        return (scale, beta - mean * scale);
    }

    /// <summary>BN at inference as y = x scale + shift with the running statistics: scale = gamma / sqrt(var + eps).</summary>
    public static (float Scale, float Shift) InferenceScaleShift(float gamma, float beta, float runningMean, float runningVar, float epsilon)
    {
        float scale = gamma / MathF.Sqrt(runningVar + epsilon);
        return (scale, beta - runningMean * scale);
    }

    /// <summary>gx = A gy + B x + C for one channel, from G = sum gy and H = sum gy xhat over the m values.</summary>
    public struct InputGradient
    {
        public float A;
        public float B;
        public float C;
    }

    public static InputGradient Backward(double m, float gamma, float mean, float invStd, double sumGy, double sumGyXhat)
    {
        double k = gamma * (double)invStd;
        InputGradient result;
        result.A = (float)k;
        result.B = (float)(-k * invStd * sumGyXhat / m);
        result.C = (float)(k * (-sumGy / m + mean * (double)invStd * sumGyXhat / m));
        return result;
    }
}
