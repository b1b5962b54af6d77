using Igcv2.Design;

namespace Igcv2;

/// <summary>
/// A network the generator wrote: straight-line forward and backward passes over a device. Buffers are
/// allocated once for <see cref="BatchSize"/>; a batch of any size from 1 to <see cref="BatchSize"/> runs.
/// </summary>
public interface IModel : IDisposable
{
    Device Device { get; }

    /// <summary>The largest batch <see cref="Forward"/> accepts.</summary>
    int BatchSize { get; }

    /// <summary>The layers the generator laid out (every convolution, permutation and skip).</summary>
    NetworkPlan Plan { get; }

    /// <summary>Every trainable tensor, in layer order.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>
    /// The trainable parameters' values and gradients, each in one contiguous buffer (generated models always
    /// have one); null for a model that keeps its tensors apart. Optimizers and data-parallel training use it
    /// to work on all parameters at once.
    /// </summary>
    ParameterArena? Arena => null;

    /// <summary>State that is not trained: BN running mean and variance (<c>&lt;bn&gt;.running_mean</c>, <c>.running_var</c>).</summary>
    IReadOnlyList<Parameter> Buffers { get; }

    /// <summary>
    /// Runs the network on <paramref name="input"/> [n, C, H, W] and returns the logits [n, Classes], a
    /// tensor the model owns (valid until the next call). Training mode uses batch statistics and
    /// updates the running ones; inference mode uses the running statistics.
    /// </summary>
    Tensor Forward(Tensor input, bool training);

    /// <summary>
    /// Back-propagates <paramref name="gradLogits"/> [n, Classes] through the last training-mode
    /// <see cref="Forward"/>, overwriting every parameter's gradient.
    /// </summary>
    void Backward(Tensor gradLogits);

    /// <summary>When set, <see cref="Backward"/> also writes <see cref="InputGradient"/> (off by default: it costs a pass).</summary>
    bool ComputeInputGradient { get; set; }

    /// <summary>The loss gradient with respect to the last input, [n, C, H, W], when <see cref="ComputeInputGradient"/> is set.</summary>
    Tensor? InputGradient { get; }
}
