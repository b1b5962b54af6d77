namespace Igcv2.Training;

/// <summary>
/// The loss the trainer minimises: its mean over a batch and its gradient with respect to the logits. What else
/// is measured (accuracy, top-k accuracy) are <see cref="IMetric"/>s, apart from the loss.
/// </summary>
public interface ILossFunction
{
    /// <summary>
    /// The mean loss of the first <paramref name="n"/> rows of <paramref name="logits"/> [>= n, classes] against
    /// <paramref name="labels"/> (>= n class indices); writes its gradient with respect to the logits (for softmax
    /// cross-entropy <c>(softmax - onehot) / n</c>) into the first n rows of <paramref name="gradLogits"/>.
    /// </summary>
    float Compute(Tensor logits, Labels labels, Tensor gradLogits, int n);
}

/// <summary>
/// A loss from a delegate, e.g. <c>LossFunction.From(device.Ops.SoftmaxCrossEntropy)</c>; <see cref="CrossEntropy()"/>
/// is the default every trainer and <see cref="ModelFitExtensions.Fit"/> use.
/// </summary>
public sealed class LossFunction(Func<Tensor, Labels, Tensor, int, float> compute) : ILossFunction
{
    private readonly Func<Tensor, Labels, Tensor, int, float> compute = compute ?? throw new ArgumentNullException(nameof(compute));

    public static LossFunction From(Func<Tensor, Labels, Tensor, int, float> compute) => new(compute);

    /// <summary>Softmax cross-entropy by the kernels of the device the logits live on (<c>device.Ops.SoftmaxCrossEntropy</c>).</summary>
    public static LossFunction CrossEntropy() => new((logits, labels, gradLogits, n) => logits.Device.Ops.SoftmaxCrossEntropy(logits, labels, gradLogits, n));

    /// <summary>Softmax cross-entropy by <paramref name="device"/>'s own kernels.</summary>
    public static LossFunction CrossEntropy(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new(device.Ops.SoftmaxCrossEntropy);
    }

    public float Compute(Tensor logits, Labels labels, Tensor gradLogits, int n) => compute(logits, labels, gradLogits, n);
}

/// <summary>
/// Softmax cross-entropy computed on the host (copies the logits off the device and the gradient back):
/// the reference, and a working loss on any device until a faster one is plugged in. Accumulates in double
/// with the max-subtracted log-sum-exp.
/// </summary>
public sealed class HostLossFunction : ILossFunction
{
    public float Compute(Tensor logits, Labels labels, Tensor gradLogits, int n)
    {
        var classes = logits.Dim(logits.Rank - 1);
        var z = logits.ToArray();
        var y = labels.ToArray();
        Kernels.Loss.CheckLabels(nameof(HostLossFunction), y.AsSpan(0, n), classes);
        var grad = new float[gradLogits.Length];
        if (!logits.Device.IsCpu) gradLogits.CopyTo(grad);
        double total = 0;
        for (var i = 0; i < n; i++)
        {
            var row = z.AsSpan(i * classes, classes);
            var label = y[i];
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
}
