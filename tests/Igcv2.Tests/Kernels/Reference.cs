namespace Igcv2.Tests.Kernels;

/// <summary>Plain double-precision definitions of the operations, written for clarity, not speed.</summary>
internal static class Reference
{
    public static double[] Conv2d(double[] x, double[] w, int n, int cin, int h, int wd, int cout, int k, int groups, int stride)
    {
        int ho = (h - 1) / stride + 1, wo = (wd - 1) / stride + 1, pad = k / 2, cig = cin / groups, cog = cout / groups;
        var y = new double[n * cout * ho * wo];
        for (int s = 0; s < n; s++)
        for (int co = 0; co < cout; co++)
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
        {
            double sum = 0;
            int g = co / cog;
            for (int j = 0; j < cig; j++)
            for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
            {
                int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                sum += w[((co * cig + j) * k + ky) * k + kx] * x[((s * cin + g * cig + j) * h + iy) * wd + ix];
            }
            y[((s * cout + co) * ho + oy) * wo + ox] = sum;
        }
        return y;
    }

    public static double[] ChannelShuffle(double[] x, int n, int c, int plane, int groups)
    {
        var y = new double[n * c * plane];
        int k = c / groups;
        for (int s = 0; s < n; s++)
        for (int g = 0; g < groups; g++)
        for (int j = 0; j < k; j++)
        for (int p = 0; p < plane; p++)
            y[(s * c + j * groups + g) * plane + p] = x[(s * c + g * k + j) * plane + p];
        return y;
    }

    public static (double[] Y, double[] Mean, double[] Var) BatchNorm(double[] x, double[] gamma, double[] beta, int n, int c, int plane, double eps)
    {
        var y = new double[n * c * plane];
        var mean = new double[c];
        var variance = new double[c];
        double m = n * plane;
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int s = 0; s < n; s++) for (int p = 0; p < plane; p++) sum += x[(s * c + ch) * plane + p];
            mean[ch] = sum / m;
            double sq = 0;
            for (int s = 0; s < n; s++) for (int p = 0; p < plane; p++) sq += Math.Pow(x[(s * c + ch) * plane + p] - mean[ch], 2);
            variance[ch] = sq / m;
            for (int s = 0; s < n; s++)
            for (int p = 0; p < plane; p++)
            {
                int i = (s * c + ch) * plane + p;
                y[i] = (x[i] - mean[ch]) / Math.Sqrt(variance[ch] + eps) * gamma[ch] + beta[ch];
            }
        }
        return (y, mean, variance);
    }

    public static double[] GlobalAveragePool(double[] x, int planes, int plane)
    {
        var y = new double[planes];
        for (int i = 0; i < planes; i++)
        {
            for (int p = 0; p < plane; p++) y[i] += x[i * plane + p];
            y[i] /= plane;
        }
        return y;
    }

    public static double[] Linear(double[] x, double[] w, double[] b, int n, int inputs, int outputs)
    {
        var y = new double[n * outputs];
        for (int s = 0; s < n; s++)
        for (int o = 0; o < outputs; o++)
        {
            double sum = b[o];
            for (int i = 0; i < inputs; i++) sum += x[s * inputs + i] * w[o * inputs + i];
            y[s * outputs + o] = sum;
        }
        return y;
    }

    public static double[] AddBias(double[] x, double[] b, int n, int features)
    {
        var y = new double[n * features];
        for (int i = 0; i < y.Length; i++) y[i] = x[i] + b[i % features];
        return y;
    }

    public static double SoftmaxCrossEntropy(double[] logits, int[] labels, int n, int classes)
    {
        double total = 0;
        for (int s = 0; s < n; s++)
        {
            double max = double.MinValue;
            for (int c = 0; c < classes; c++) max = Math.Max(max, logits[s * classes + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[s * classes + c] - max);
            total += Math.Log(sum) + max - logits[s * classes + labels[s]];
        }
        return total / n;
    }
}
