namespace Igcv2;

/// <summary>
/// Every trainable parameter of a model in one contiguous device buffer, and every gradient in another (the
/// parameter arena llm.c keeps): parameter i's <see cref="Parameter.Value"/> and <see cref="Parameter.Gradient"/>
/// are views of <see cref="Values"/> and <see cref="Gradients"/> at the same offset, in
/// <see cref="IModel.Parameters"/> order, with nothing between them. So one pass can update all weights, and one
/// collective can average all gradients across processes (data-parallel training), without gathering
/// 100-odd small tensors.
/// </summary>
public sealed class ParameterArena
{
    private readonly List<Parameter> parameters = [];
    private readonly List<long> offsets = [];

    internal ParameterArena(Device device, long length)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "A parameter arena needs at least one element.");
        if (length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(length), length, "A parameter arena holds at most 2^31 - 1 floats.");
        Values = device.Allocate(checked((int)length));
        Gradients = device.Allocate(checked((int)length));
        device.Ops.Fill(Gradients, 0f);
    }

    /// <summary>All parameter values, [<see cref="Length"/>].</summary>
    public Tensor Values { get; }

    /// <summary>All gradients, [<see cref="Length"/>], laid out as <see cref="Values"/>.</summary>
    public Tensor Gradients { get; }

    /// <summary>The number of trainable scalars (a generated model's <c>ParameterCount</c>).</summary>
    public long Length => Values.Length;

    /// <summary>The parameters in arena order, which is the model's <see cref="IModel.Parameters"/> order.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>True once every element belongs to a parameter.</summary>
    public bool IsComplete => Claimed == Length;

    private long Claimed => offsets.Count == 0 ? 0 : offsets[^1] + parameters[^1].Length;

    /// <summary>Where <paramref name="parameter"/> starts in <see cref="Values"/> and <see cref="Gradients"/>.</summary>
    /// <exception cref="ArgumentException">The parameter is not in this arena.</exception>
    public long OffsetOf(Parameter parameter)
    {
        for (var i = 0; i < parameters.Count; i++)
        {
            if (ReferenceEquals(parameters[i], parameter)) return offsets[i];
        }
        throw new ArgumentException($"{parameter.Name} does not live in this parameter arena.", nameof(parameter));
    }

    /// <summary>Hands out the next <paramref name="shape"/>-sized part of both buffers as a new trainable parameter.</summary>
    internal Parameter Claim(string name, ParameterKind kind, int[] shape)
    {
        var start = Claimed;
        var length = shape.Aggregate(1L, (a, d) => checked(a * d));
        if (start + length > Length)
        {
            throw new InvalidOperationException(
                $"The parameter arena holds {Length} floats, but {name} [{string.Join(", ", shape)}] would end at {start + length}: " +
                "the model's ParameterCount does not match the parameters it creates.");
        }
        var parameter = new Parameter(name, kind, Values.Slice(start, shape), Gradients.Slice(start, shape));
        parameters.Add(parameter);
        offsets.Add(start);
        return parameter;
    }
}
