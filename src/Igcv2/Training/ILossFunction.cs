namespace Igcv2.Training;

/// <summary>
/// The loss the trainer drives: softmax cross-entropy over integer class labels (stored as floats), and
/// top-1 counting. The device kernels (<c>device.Ops</c>) implement it on the GPU;
/// <see cref="HostLossFunction"/> is the plain host reference.
/// </summary>
public interface ILossFunction
{
    /// <summary>
    /// The mean softmax cross-entropy of the first <paramref name="n"/> rows of <paramref name="logits"/>
    /// [>= n, classes] against <paramref name="labels"/> [>= n]; writes its gradient with respect to the
    /// logits, <c>(softmax - onehot) / n</c>, into the first n rows of <paramref name="gradLogits"/>.
    /// </summary>
    float SoftmaxCrossEntropy(Tensor logits, Tensor labels, Tensor gradLogits, int n);

    /// <summary>How many of the first <paramref name="n"/> rows have their largest logit at the label (ties: the lowest index wins).</summary>
    int CountCorrect(Tensor logits, Tensor labels, int n);
}

/// <summary>Adapts two delegates, e.g. <c>LossFunction.From(device.Ops.SoftmaxCrossEntropy, device.Ops.CountCorrect)</c>.</summary>
public sealed class LossFunction(
    Func<Tensor, Tensor, Tensor, int, float> softmaxCrossEntropy,
    Func<Tensor, Tensor, int, int> countCorrect) : ILossFunction
{
    public static LossFunction From(Func<Tensor, Tensor, Tensor, int, float> softmaxCrossEntropy, Func<Tensor, Tensor, int, int> countCorrect) =>
        new(softmaxCrossEntropy, countCorrect);

    /// <summary>The default loss: softmax cross-entropy and top-1 counting by <paramref name="device"/>'s own kernels.</summary>
    public static LossFunction CrossEntropy(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new(device.Ops.SoftmaxCrossEntropy, device.Ops.CountCorrect);
    }

    public float SoftmaxCrossEntropy(Tensor logits, Tensor labels, Tensor gradLogits, int n) => softmaxCrossEntropy(logits, labels, gradLogits, n);

    public int CountCorrect(Tensor logits, Tensor labels, int n) => countCorrect(logits, labels, n);
}

/// <summary>
/// Softmax cross-entropy computed on the host (copies the logits off the device and the gradient back):
/// the reference, and a working loss on any device until a faster one is plugged in. Accumulates in double
/// with the max-subtracted log-sum-exp.
/// </summary>
public sealed class HostLossFunction : ILossFunction
{
    public float SoftmaxCrossEntropy(Tensor logits, Tensor labels, Tensor gradLogits, int n)
    {
        var classes = logits.Dim(logits.Rank - 1);
        var z = logits.ToArray();
        var y = labels.ToArray();
        var grad = new float[gradLogits.Length];
        if (!logits.Device.IsCpu) gradLogits.CopyTo(grad);
        double total = 0;
        for (var i = 0; i < n; i++)
        {
            var row = z.AsSpan(i * classes, classes);
            var label = Label(y[i], classes);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            var logSum = max + Math.Log(sum);
            total += logSum - row[label];
            for (var c = 0; c < classes; c++)
            {
                var p = Math.Exp(row[c] - logSum);
                grad[i * classes + c] = (float)((p - (c == label ? 1 : 0)) / n);
            }
        }
        if (gradLogits.Device.IsCpu) grad.AsSpan(0, n * classes).CopyTo(gradLogits.HostSpan);
        else gradLogits.CopyFrom(grad);
        return (float)(total / n);
    }

    public int CountCorrect(Tensor logits, Tensor labels, int n)
    {
        var classes = logits.Dim(logits.Rank - 1);
        var z = logits.ToArray();
        var y = labels.ToArray();
        var correct = 0;
        for (var i = 0; i < n; i++)
        {
            var best = 0;
            for (var c = 1; c < classes; c++)
            {
                if (z[i * classes + c] > z[i * classes + best]) best = c;
            }
            if (best == Label(y[i], classes)) correct++;
        }
        return correct;
    }

    private static int Label(float value, int classes)
    {
        var label = (int)value;
        if (label != value || label < 0 || label >= classes)
        {
            throw new ArgumentException($"Label {value} is not a class index in [0, {classes}).");
        }
        return label;
    }
}
