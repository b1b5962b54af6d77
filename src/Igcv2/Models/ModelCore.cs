using Igcv2.Design;
using Igcv2.Kernels;

namespace Igcv2.Models;

/// <summary>
/// What every generated model shares and the generator need not spell out: the device, weight
/// initialisation from the seed, the parameter registry, buffers per batch size, and the checks that
/// turn misuse into clear exceptions. A generated class holds one and writes only its passes.
/// </summary>
/// <typeparam name="TBuffers">The generated class's activation and gradient buffers for one batch size.</typeparam>
// Generated code's helper, hidden from IntelliSense: users never write it.
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class ModelCore<TBuffers> : IDisposable
    where TBuffers : class, IDisposable
{
    private readonly string modelName;
    private readonly Func<Device, int, TBuffers> createBuffers;
    private readonly Dictionary<int, TBuffers> buffers = [];
    private readonly List<Parameter> parameters = [];
    private readonly List<Parameter> states = [];
    private readonly List<Tensor> owned = [];
    private readonly Random random;
    private readonly ParameterArena arena;
    private int trainedBatch;
    private bool disposed;

    /// <param name="parameterCount">Every trainable scalar the model creates (the generated <c>ParameterCount</c>): the arena's size.</param>
    public ModelCore(string modelName, Device device, int batchSize, int seed, long parameterCount, Func<Device, int, TBuffers> createBuffers)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");
        this.modelName = modelName;
        this.createBuffers = createBuffers;
        Device = device;
        Ops = device.Ops;
        BatchSize = batchSize;
        random = new Random(seed);
        arena = new ParameterArena(device, parameterCount);
        owned.Add(arena.Values);
        owned.Add(arena.Gradients);
    }

    public Device Device { get; }

    public Ops Ops { get; }

    public int BatchSize { get; }

    /// <summary>The environment variable that turns fused inference off when set to 0.</summary>
    public const string FusedEnvironmentVariable = "IGCV2_FUSED";

    /// <summary>
    /// Whether inference runs the generated fused pass: on by default on the CPU device (the fused blocks read
    /// host memory), off on CUDA and when IGCV2_FUSED=0.
    /// </summary>
    public bool FusedInference
    {
        get => fusedInference && Device.IsCpu;
        set => fusedInference = value;
    }

    private bool fusedInference = Environment.GetEnvironmentVariable(FusedEnvironmentVariable)?.Trim() != "0";

    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>The trainable parameters' values and gradients, each in one buffer.</summary>
    /// <exception cref="InvalidOperationException">The model created fewer parameters than its arena holds.</exception>
    public ParameterArena Arena => arena.IsComplete ? arena : throw new InvalidOperationException(
        $"{modelName} created parameters for {arena.Parameters.Sum(p => p.Length)} of the {arena.Length} floats its ParameterCount promises.");

    public IReadOnlyList<Parameter> Buffers => states;

    /// <summary>
    /// A group convolution with He (Kaiming) normal weights: std = sqrt(2 / fan_in), fan_in = K * k * k,
    /// drawn from the model's seed in declaration order (same seed, same weights).
    /// </summary>
    public Conv2dLayer Conv(string name, GroupConvPlan conv)
    {
        var weight = Trainable(name + ".weight", ParameterKind.ConvWeight, conv.WeightShape);
        weight.SetValues(Normal(weight.Length, Math.Sqrt(2.0 / (conv.K * conv.KernelSize * conv.KernelSize))));
        return new Conv2dLayer(weight, conv.Branches, conv.Stride);
    }

    /// <summary>BN with gamma = 1, beta = 0, running mean 0 and variance 1.</summary>
    public BatchNormLayer BatchNorm(string name, int channels)
    {
        var gamma = Trainable(name + ".weight", ParameterKind.BatchNormGamma, channels);
        var beta = Trainable(name + ".bias", ParameterKind.BatchNormBeta, channels);
        var mean = State(name + ".running_mean", ParameterKind.RunningMean, channels);
        var variance = State(name + ".running_var", ParameterKind.RunningVariance, channels);
        Ops.Fill(gamma.Value, 1f);
        Ops.Fill(beta.Value, 0f);
        Ops.Fill(mean.Value, 0f);
        Ops.Fill(variance.Value, 1f);
        return new BatchNormLayer(gamma, beta, mean, variance, Own(Device.Allocate(channels)), Own(Device.Allocate(channels)));
    }

    /// <summary>The classifier: He-normal weights over fan_in = C (ReLU features in), zero bias.</summary>
    public LinearLayer Linear(string name, int inFeatures, int outFeatures)
    {
        var weight = Trainable(name + ".weight", ParameterKind.LinearWeight, outFeatures, inFeatures);
        var bias = Trainable(name + ".bias", ParameterKind.LinearBias, outFeatures);
        weight.SetValues(Normal(weight.Length, Math.Sqrt(2.0 / inFeatures)));
        Ops.Fill(bias.Value, 0f);
        return new LinearLayer(weight, bias);
    }

    /// <summary>The bias of the grouped classifier head (a <see cref="ParameterKind.LinearBias"/>, not decayed), zero.</summary>
    public BiasLayer Bias(string name, int features)
    {
        var bias = Trainable(name, ParameterKind.LinearBias, features);
        Ops.Fill(bias.Value, 0f);
        return new BiasLayer(bias);
    }

    /// <summary>Checks the input of Forward and returns the buffers for its batch size.</summary>
    public TBuffers BeginForward(Tensor input, bool training, int channels, int size)
    {
        ObjectDisposedException.ThrowIf(disposed, modelName);
        ArgumentNullException.ThrowIfNull(input);
        if (input.Device != Device) throw new ArgumentException($"{modelName}: the input lives on another device ({input.Device}); the model is on {Device}.", nameof(input));
        if (input.Rank != 4 || input.Dim(1) != channels || input.Dim(2) != size || input.Dim(3) != size)
        {
            throw new ArgumentException($"{modelName} expects input [n, {channels}, {size}, {size}] (n = 1..{BatchSize}), got [{string.Join(", ", input.Shape)}].", nameof(input));
        }
        var n = input.Dim(0);
        if (n > BatchSize)
        {
            throw new ArgumentException($"{modelName} was created for batches of at most {BatchSize}; the input holds {n}. Create the model with a larger batchSize.", nameof(input));
        }
        trainedBatch = training ? n : 0;
        return For(n);
    }

    /// <summary>Checks the gradient given to Backward and returns the buffers of the last training Forward.</summary>
    public TBuffers BeginBackward(Tensor gradLogits, int classes)
    {
        ObjectDisposedException.ThrowIf(disposed, modelName);
        ArgumentNullException.ThrowIfNull(gradLogits);
        if (trainedBatch == 0)
        {
            throw new InvalidOperationException($"{modelName}.Backward needs a preceding Forward(input, training: true); it back-propagates through that pass.");
        }
        if (gradLogits.Rank != 2 || gradLogits.Dim(0) != trainedBatch || gradLogits.Dim(1) != classes)
        {
            throw new ArgumentException($"{modelName}.Backward expects gradLogits [{trainedBatch}, {classes}] (the last Forward's batch), got [{string.Join(", ", gradLogits.Shape)}].", nameof(gradLogits));
        }
        return For(trainedBatch);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var set in buffers.Values) set.Dispose();
        foreach (var tensor in owned) tensor.Dispose();
    }

    private TBuffers For(int n)
    {
        if (!buffers.TryGetValue(n, out var set))
        {
            set = createBuffers(Device, n);
            buffers[n] = set;
        }
        return set;
    }

    private Parameter Trainable(string name, ParameterKind kind, params int[] shape)
    {
        var parameter = arena.Claim(name, kind, shape);
        parameters.Add(parameter);
        return parameter;
    }

    private Parameter State(string name, ParameterKind kind, params int[] shape)
    {
        var parameter = new Parameter(name, kind, Own(Device.Allocate(shape)), null);
        states.Add(parameter);
        return parameter;
    }

    private Tensor Own(Tensor tensor)
    {
        owned.Add(tensor);
        return tensor;
    }

    /// <summary>Normal(0, std) by Box-Muller from the model's generator.</summary>
    private float[] Normal(long count, double std)
    {
        var values = new float[count];
        for (var i = 0; i < values.Length; i += 2)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var radius = std * Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length) values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
        }
        return values;
    }
}
