using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>
    /// Mean softmax cross-entropy over n samples of logits [N, classes] against their class indices
    /// (<paramref name="labels"/>, N of them or more). Writes gradLogits = (softmax - onehot) / n and returns the
    /// mean loss (synchronises).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class index: the message names the first and its index.</exception>
    public float SoftmaxCrossEntropy(Tensor logits, Labels labels, Tensor gradLogits, int n)
    {
        const string op = nameof(SoftmaxCrossEntropy);
        int classes = Logits(op, logits, labels, n);
        Batched(op, gradLogits, "gradLogits", n, classes);
        NotSame(op, logits, "logits", gradLogits, "gradLogits");
        return backend.Run<Loss.SoftmaxCrossEntropy, float>(new(n, classes, logits, labels, gradLogits));
    }

    /// <summary>Top-1 hits among the first n samples (the first maximal logit counts as the prediction).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class index: the message names the first and its index.</exception>
    public int CountCorrect(Tensor logits, Labels labels, int n) => CountTopK(nameof(CountCorrect), logits, labels, n, 1);

    /// <summary>
    /// Top-k hits among the first n samples: samples whose label is among the k highest logits (ties go to the lower
    /// class index, so k = 1 is <see cref="CountCorrect"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is not positive, or a label is not a class index (the message names the first and its index).</exception>
    public int CountTopK(Tensor logits, Labels labels, int n, int k) => CountTopK(nameof(CountTopK), logits, labels, n, k);

    private int CountTopK(string op, Tensor logits, Labels labels, int n, int k)
    {
        int classes = Logits(op, logits, labels, n);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, $"{op}: k must be at least 1.");
        return backend.Run<Loss.CountTopK, int>(new(op, n, classes, k, logits, labels));
    }
}

/// <summary>
/// The loss and the metric over logits [N, classes] and class indices. The per-sample math is written once and both
/// bodies call it: the stable log-softmax's gradient (softmax - onehot) / n and loss, scaled in double; a label's rank
/// among its sample's logits (ties to the lower class). A label that is not a class index stops either op on the host
/// before anything is written, and on the device after its kernel flags it, naming the first such label.
/// </summary>
internal static class Loss
{
    /// <summary>d loss / d z_c for one sample: (softmax_c - [c = label]) / n, from the max logit and sum exp(z - max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gradient(float z, float max, double sumExp, bool isLabel, double invN) =>
        (float)((Math.Exp(z - max) / sumExp - (isLabel ? 1.0 : 0.0)) * invN);

    /// <summary>-log softmax_label, from the label's logit, the max logit and sum exp(z - max), rounded to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SampleLoss(float zLabel, float max, double sumExp) => (float)(Math.Log(sumExp) - (zLabel - max));

    /// <summary>Whether class c's logit v ranks above the label's (its logit target): higher, or equal and before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Outranks(float v, int c, float target, int label) => v > target || (c < label && v == target);

    /// <summary>Throws, naming the first label outside [0, classes) and its index.</summary>
    internal static void CheckLabels(string op, ReadOnlySpan<int> labels, int classes)
    {
        for (int s = 0; s < labels.Length; s++)
        {
            if ((uint)labels[s] >= (uint)classes) throw BadLabel(op, s, labels[s], classes);
        }
    }

    internal static ArgumentOutOfRangeException BadLabel(string op, int index, int label, int classes) =>
        new("labels", label, $"{op}: labels[{index}] = {label} is not a class index in [0, {classes}).");

    /// <summary>Writes the gradient, returns the mean loss (each sample's loss rounded to float, summed in double).</summary>
    public readonly record struct SoftmaxCrossEntropy(int N, int Classes, Tensor Logits, Labels Labels, Tensor Gradient) : IKernel<float>
    {
        public float OnHost()
        {
            // The labels as an array: the loop's lambda cannot capture a span (n ints, copied once).
            var (logits, labels, grad, n, classes) = (new Buf(Logits), Labels.HostSpan[..N].ToArray(), new Buf(Gradient), N, Classes);
            CheckLabels(nameof(Ops.SoftmaxCrossEntropy), labels, classes);
            var losses = new float[n];
            HostKernels.ForPlanes(n, classes * 4, s =>
            {
                var z = logits.Slice(s * classes, classes);
                var gz = grad.Slice(s * classes, classes);
                float max = z[0];
                for (int c = 1; c < classes; c++) max = Math.Max(max, z[c]);
                double sum = 0.0;
                for (int c = 0; c < classes; c++) sum += Math.Exp(z[c] - max);
                int label = labels[s];
                double invN = 1.0 / n;
                for (int c = 0; c < classes; c++) gz[c] = Loss.Gradient(z[c], max, sum, c == label, invN);
                losses[s] = SampleLoss(z[label], max, sum);
            });
            return Mean(losses, n);
        }

        public float OnDevice(Backend backend)
        {
            var view = backend.Scratch(2 * N);
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>>(SoftmaxCrossEntropyKernel));
            kernel(backend.Threads(N), N, backend.Threads(N), Classes, Logits.Flat, Labels.Flat, Gradient.Flat, view);
            var values = backend.ReadBack(view);
            for (int s = 0; s < N; s++)
            {
                if (values[N + s] != 0f) throw BadLabel(nameof(Ops.SoftmaxCrossEntropy), s, Labels.ToArray()[s], Classes);
            }
            return Mean(values, N);
        }

        private static float Mean(ReadOnlySpan<float> losses, int n)
        {
            double sum = 0.0;
            for (int s = 0; s < n; s++) sum += losses[s];
            return (float)(sum / n);
        }
    }

    /// <summary>How many of the first n samples have their label among the k highest logits.</summary>
    public readonly record struct CountTopK(string Op, int N, int Classes, int K, Tensor Logits, Labels Labels) : IKernel<int>
    {
        public int OnHost()
        {
            var ls = Labels.HostSpan[..N];
            CheckLabels(Op, ls, Classes);
            var z = Logits.HostSpan;
            int hits = 0;
            for (int s = 0; s < N; s++)
            {
                var row = z.Slice(s * Classes, Classes);
                int label = ls[s], rank = 0;
                float target = row[label];
                for (int c = 0; c < Classes && rank < K; c++)
                {
                    if (Outranks(row[c], c, target, label)) rank++;
                }
                if (rank < K) hits++;
            }
            return hits;
        }

        public int OnDevice(Backend backend)
        {
            var view = backend.Scratch(N);
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>>(CountTopKKernel));
            kernel(backend.Threads(N), N, backend.Threads(N), Classes, K, Logits.Flat, Labels.Flat, view);
            var values = backend.ReadBack(view);
            int hits = 0;
            for (int s = 0; s < N; s++)
            {
                if (values[s] < 0f) throw BadLabel(Op, s, Labels.ToArray()[s], Classes);
                hits += (int)values[s];
            }
            return hits;
        }
    }

    // One thread per sample: scratch[s] = the sample's loss, scratch[n + s] = 1 when the label is not a class index
    // (its row then reads class 0, so nothing is read out of bounds, and the host throws).
    [DeviceKernel]
    public static void SoftmaxCrossEntropyKernel(Index1D index, int n, int stride, int classes,
        ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> grad, ArrayView<float> scratch)
    {
        for (int s = index; s < n; s += stride)
        {
            int b = s * classes;
            float max = logits[b];
            for (int c = 1; c < classes; c++) max = Math.Max(max, logits[b + c]);
            double sum = 0.0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[b + c] - max);
            int labelValue = labels[s];
            bool valid = labelValue >= 0 && labelValue < classes;
            int label = valid ? labelValue : 0;
            double invN = 1.0 / n;
            for (int c = 0; c < classes; c++) grad[b + c] = Gradient(logits[b + c], max, sum, c == label, invN);
            scratch[s] = valid ? SampleLoss(logits[b + label], max, sum) : 0f;
            scratch[n + s] = valid ? 0f : 1f;
        }
    }

    // scratch[s] = 1 when the label is among the k highest logits, 0 when not, -1 when it is not a class index.
    [DeviceKernel]
    public static void CountTopKKernel(Index1D index, int n, int stride, int classes, int k,
        ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> scratch)
    {
        for (int s = index; s < n; s += stride)
        {
            int b = s * classes;
            int label = labels[s];
            if (label < 0 || label >= classes)
            {
                scratch[s] = -1f;
                continue;
            }
            float target = logits[b + label];
            int rank = 0;
            for (int c = 0; c < classes && rank < k; c++)
            {
                if (Outranks(logits[b + c], c, target, label)) rank++;
            }
            scratch[s] = rank < k ? 1f : 0f;
        }
    }
}
