namespace Igcv2;

/// <summary>What a named model tensor holds; optimizers and exporters treat the kinds differently.</summary>
public enum ParameterKind
{
    ConvWeight,
    LinearWeight,
    LinearBias,
    BatchNormGamma,
    BatchNormBeta,

    /// <summary>BN running mean: state, not trained.</summary>
    RunningMean,

    /// <summary>BN running variance: state, not trained.</summary>
    RunningVariance,
}

/// <summary>
/// A named model tensor, e.g. <c>stage2.block1.conv3.weight</c>, with its gradient when it is trainable.
/// The values and gradient live on the model's device; these methods copy to and from the host.
/// </summary>
public sealed class Parameter
{
    public Parameter(string name, ParameterKind kind, Tensor value, Tensor? gradient)
    {
        Name = name;
        Kind = kind;
        Value = value;
        Gradient = gradient;
    }

    public string Name { get; }

    public ParameterKind Kind { get; }

    public int[] Shape => Value.Shape;

    public long Length => Value.Length;

    /// <summary>Trainable parameters have a gradient; BN running statistics do not.</summary>
    public bool IsTrainable => Gradient is not null;

    /// <summary>Whether weight decay applies by default (not to BN and biases, as is usual for the paper's setting).</summary>
    public bool IsWeight => Kind is ParameterKind.ConvWeight or ParameterKind.LinearWeight;

    public Tensor Value { get; }

    public Tensor? Gradient { get; }

    public float[] GetValues() => Value.ToArray();

    public void SetValues(ReadOnlySpan<float> values) => Value.CopyFrom(values);

    public float[] GetGradient() =>
        (Gradient ?? throw new InvalidOperationException($"{Name} is not trainable and has no gradient.")).ToArray();

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}] {Kind}";
}
