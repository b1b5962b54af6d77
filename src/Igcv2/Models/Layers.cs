using Igcv2.Kernels;

namespace Igcv2.Models;

/// <summary>
/// A group convolution W_l with its weight [C_out, K, k, k]: <see cref="Groups"/> branches, stride,
/// padding k/2. Generated models call <see cref="Forward"/> and <see cref="Backward"/>.
/// </summary>
// Generated code's helper, hidden from IntelliSense: users never write it.
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class Conv2dLayer(Parameter weight, int groups, int stride)
{
    public Parameter Weight { get; } = weight;

    public int Groups { get; } = groups;

    public int Stride { get; } = stride;

    public void Forward(Ops ops, Tensor x, Tensor y, int n) => ops.Conv2d(x, Weight.Value, y, n, Groups, Stride);

    /// <summary>
    /// BN_{l-1}, P_{l-1} (<paramref name="shuffleGroups"/> branches, 1 for the identity) and this 1x1 W_l on
    /// <paramref name="c"/>. Training: BN's batch statistics alone, then W_l normalising its input as it loads it
    /// (<see cref="Ops.BatchNormShuffleConv2d"/>), so P(BN(c)) is never written. Inference: BN (into
    /// <paramref name="scratch"/> when P moves channels) and P into <paramref name="normalized"/>, then W_l.
    /// </summary>
    public void Forward(Ops ops, BatchNormLayer norm, Tensor c, Tensor? scratch, Tensor normalized, int shuffleGroups, Tensor y, int n, bool training)
    {
        if (training)
        {
            ops.BatchNormTrainingStatistics(c, norm.SavedMean, norm.SavedInvStd, norm.RunningMean.Value, norm.RunningVariance.Value, n, BatchNormLayer.Momentum, BatchNormLayer.Epsilon);
            ops.BatchNormShuffleConv2d(c, norm.Gamma.Value, norm.Beta.Value, norm.SavedMean, norm.SavedInvStd, shuffleGroups, Weight.Value, y, n, Groups);
            return;
        }
        if (shuffleGroups == 1) norm.Forward(ops, c, normalized, n, training: false);
        else norm.Forward(ops, c, scratch ?? throw new ArgumentNullException(nameof(scratch), "P moves channels: BN needs a scratch tensor at inference."), null, normalized, n, false, shuffleGroups, Design.Activation.None);
        Forward(ops, normalized, y, n);
    }

    /// <summary>
    /// Training's forward again, in backward, for an output that was not kept: BN_{l-1} with the batch statistics it
    /// saved then (not updated again), P_{l-1} and W_l on <paramref name="c"/>, into <paramref name="y"/>. The same
    /// op on the same values as the forward, so the same numbers.
    /// </summary>
    public void Recompute(Ops ops, BatchNormLayer norm, Tensor c, int shuffleGroups, Tensor y, int n) =>
        ops.BatchNormShuffleConv2d(c, norm.Gamma.Value, norm.Beta.Value, norm.SavedMean, norm.SavedInvStd, shuffleGroups, Weight.Value, y, n, Groups);

    /// <summary>Writes the weight gradient and, unless <paramref name="gx"/> is null, the input gradient (<see cref="Ops.Conv2dBackward"/>: one pass over gy where it fuses).</summary>
    public void Backward(Ops ops, Tensor x, Tensor gy, Tensor? gx, int n) =>
        ops.Conv2dBackward(x, gy, Weight.Value, Weight.Gradient!, gx, n, Groups, Stride);

    /// <summary>
    /// As <see cref="Backward(Ops, Tensor, Tensor, Tensor?, int)"/> for a 1x1 W_l whose input P_{l-1}(BN_{l-1}(c)) was not
    /// kept: the weight gradient recomputes it from <paramref name="c"/> and <paramref name="norm"/>'s saved statistics
    /// (<see cref="Ops.BatchNormShuffleConv2dBackward"/>; <paramref name="shuffleGroups"/>: P_{l-1}'s branches, 1 for the identity).
    /// </summary>
    public void Backward(Ops ops, BatchNormLayer norm, Tensor c, int shuffleGroups, Tensor gy, Tensor? gx, int n) =>
        ops.BatchNormShuffleConv2dBackward(c, norm.Gamma.Value, norm.Beta.Value, norm.SavedMean, norm.SavedInvStd, shuffleGroups, gy, Weight.Value, Weight.Gradient!, gx, n, Groups);
}

/// <summary>
/// Batch normalisation over (N, H, W) per channel, with gamma/beta (trained) and running mean/variance
/// (state). Training mode normalises with the batch statistics and updates the running ones
/// (momentum <see cref="Momentum"/>, PyTorch's convention); inference mode uses the running ones.
/// </summary>
// Generated code's helper, hidden from IntelliSense: users never write it.
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class BatchNormLayer(Parameter gamma, Parameter beta, Parameter runningMean, Parameter runningVariance, Tensor savedMean, Tensor savedInvStd)
{
    public const float Momentum = 0.1f;

    public const float Epsilon = 1e-5f;

    public Parameter Gamma { get; } = gamma;

    public Parameter Beta { get; } = beta;

    public Parameter RunningMean { get; } = runningMean;

    public Parameter RunningVariance { get; } = runningVariance;

    /// <summary>The batch mean and 1 / sqrt(var + eps) the last training forward normalised with (what backward reads).</summary>
    internal Tensor SavedMean => savedMean;

    internal Tensor SavedInvStd => savedInvStd;

    public void Forward(Ops ops, Tensor x, Tensor y, int n, bool training)
    {
        if (training)
        {
            ops.BatchNormTraining(x, Gamma.Value, Beta.Value, y, savedMean, savedInvStd, RunningMean.Value, RunningVariance.Value, n, Momentum, Epsilon);
        }
        else
        {
            ops.BatchNormInference(x, Gamma.Value, Beta.Value, RunningMean.Value, RunningVariance.Value, y, n, Epsilon);
        }
    }

    /// <summary>
    /// BN_l, then P_l (<paramref name="groups"/> branches), the skip add and the activation. Training: one normalising
    /// pass that writes BN_l's output to its permuted place (<see cref="Ops.BatchNormShuffleAddActivation"/>);
    /// inference: BN into <paramref name="scratch"/>, then <see cref="Ops.ShuffleAddActivation"/>.
    /// </summary>
    public void Forward(Ops ops, Tensor x, Tensor scratch, Tensor? skip, Tensor y, int n, bool training, int groups, Design.Activation activation)
    {
        if (training)
        {
            ops.BatchNormShuffleAddActivation(x, Gamma.Value, Beta.Value, savedMean, savedInvStd, RunningMean.Value, RunningVariance.Value, skip, y, n,
                Momentum, Epsilon, groups, activation);
            return;
        }
        ops.BatchNormInference(x, Gamma.Value, Beta.Value, RunningMean.Value, RunningVariance.Value, scratch, n, Epsilon);
        ops.ShuffleAddActivation(scratch, skip, y, n, groups, activation);
    }

    public void Backward(Ops ops, Tensor x, Tensor gy, Tensor gx, int n) =>
        ops.BatchNormBackward(x, gy, Gamma.Value, savedMean, savedInvStd, gx, Gamma.Gradient!, Beta.Gradient!, n);

    /// <summary>
    /// The mirror image of the fused forward, in one op (<see cref="Ops.ActivationShuffleBatchNormBackward"/>): the
    /// activation's derivative at the output <paramref name="y"/> (null without an activation), the skip's share into <paramref name="gSkip"/>,
    /// P_l^-1 (<paramref name="inverseGroups"/>: the inverse permutation's branches) and BN_l's backward (x its input) into gx.
    /// </summary>
    public void Backward(Ops ops, Tensor? y, Tensor gy, Tensor? gSkip, Tensor x, Tensor gx, int n, int inverseGroups, Design.Activation activation) =>
        ops.ActivationShuffleBatchNormBackward(y, gy, gSkip, inverseGroups, activation, x, Gamma.Value, savedMean, savedInvStd, gx, Gamma.Gradient!, Beta.Gradient!, n);
}

/// <summary>The fully connected classifier: y = x W^T + b, W [classes, C].</summary>
// Generated code's helper, hidden from IntelliSense: users never write it.
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class LinearLayer(Parameter weight, Parameter bias)
{
    public Parameter Weight { get; } = weight;

    public Parameter Bias { get; } = bias;

    public void Forward(Ops ops, Tensor x, Tensor y, int n) => ops.Linear(x, Weight.Value, Bias.Value, y, n);

    public void Backward(Ops ops, Tensor x, Tensor gy, Tensor gx, int n) =>
        ops.LinearBackward(x, Weight.Value, gy, gx, Weight.Gradient!, Bias.Gradient!, n);
}

/// <summary>
/// The bias of the grouped IGCV2* head (paper Table 8), added to the logits its last 1x1 group convolution
/// writes: y = x + b per class.
/// </summary>
// Generated code's helper, hidden from IntelliSense: users never write it.
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class BiasLayer(Parameter bias)
{
    public Parameter Bias { get; } = bias;

    /// <summary>x and y [n, F]; they may be the same tensor.</summary>
    public void Forward(Ops ops, Tensor x, Tensor y, int n) => ops.AddBias(x, Bias.Value, y, n);

    /// <summary>The bias gradient: the sums of gy over the n samples.</summary>
    public void Backward(Ops ops, Tensor gy, int n) => ops.BiasBackward(gy, Bias.Gradient!, n);
}
