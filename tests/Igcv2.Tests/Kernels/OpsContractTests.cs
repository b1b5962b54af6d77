using System.Reflection;
using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

/// <summary>The generator emits calls to these exact signatures: a rename or an extra parameter must fail here.</summary>
public sealed class OpsContractTests
{
    private static readonly string[] Expected =
    [
        "Void Conv2d(Tensor x, Tensor w, Tensor y, Int32 n, Int32 groups, Int32 stride)",
        "Void Conv2dBackwardInput(Tensor gy, Tensor w, Tensor gx, Int32 n, Int32 groups, Int32 stride)",
        "Void Conv2dBackwardWeight(Tensor x, Tensor gy, Tensor gw, Int32 n, Int32 groups, Int32 stride)",
        "Void Conv2dBackward(Tensor x, Tensor gy, Tensor w, Tensor gw, Tensor gx, Int32 n, Int32 groups, Int32 stride)",
        "Void ChannelShuffle(Tensor x, Tensor y, Int32 n, Int32 groups)",
        "Void BatchNormTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor savedMean, Tensor savedInvStd, Tensor runningMean, Tensor runningVar, Int32 n, Single momentum, Single epsilon)",
        "Void BatchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, Int32 n, Single epsilon)",
        "Void BatchNormBackward(Tensor x, Tensor gy, Tensor gamma, Tensor savedMean, Tensor savedInvStd, Tensor gx, Tensor gGamma, Tensor gBeta, Int32 n)",
        "Void Relu(Tensor x, Tensor y, Int32 n)",
        "Void ReluBackward(Tensor y, Tensor gy, Tensor gx, Int32 n)",
        "Void Relu6(Tensor x, Tensor y, Int32 n)",
        "Void Relu6Backward(Tensor y, Tensor gy, Tensor gx, Int32 n)",
        "Void Add(Tensor a, Tensor b, Tensor y, Int32 n)",
        "Void GlobalAveragePool(Tensor x, Tensor y, Int32 n)",
        "Void GlobalAveragePoolBackward(Tensor gy, Tensor gx, Int32 n)",
        "Void Linear(Tensor x, Tensor w, Tensor b, Tensor y, Int32 n)",
        "Void LinearBackward(Tensor x, Tensor w, Tensor gy, Tensor gx, Tensor gw, Tensor gb, Int32 n)",
        "Void AddBias(Tensor x, Tensor b, Tensor y, Int32 n)",
        "Void BiasBackward(Tensor gy, Tensor gb, Int32 n)",
        "Single SoftmaxCrossEntropy(Tensor logits, Labels labels, Tensor gradLogits, Int32 n)",
        "Int32 CountCorrect(Tensor logits, Labels labels, Int32 n)",
        "Int32 CountTopK(Tensor logits, Labels labels, Int32 n, Int32 k)",
        "Void Fill(Tensor t, Single value)",
        "Void Copy(Tensor source, Tensor destination)",
        "Void ShuffleAddActivation(Tensor x, Tensor skip, Tensor y, Int32 n, Int32 groups, Activation activation)",
        "Void ActivationBackwardShuffle(Tensor y, Tensor gy, Tensor gx, Tensor gSkip, Int32 n, Int32 groups, Activation activation)",
        "Void BatchNormTrainingStatistics(Tensor x, Tensor savedMean, Tensor savedInvStd, Tensor runningMean, Tensor runningVar, Int32 n, Single momentum, Single epsilon)",
        "Void BatchNormShuffleConv2d(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, Int32 shuffleGroups, Tensor w, Tensor y, Int32 n, Int32 groups)",
        "Void BatchNormShuffleConv2dBackwardWeight(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, Int32 shuffleGroups, Tensor gy, Tensor gw, Int32 n, Int32 groups)",
        "Void BatchNormShuffleConv2dBackward(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, Int32 shuffleGroups, Tensor gy, Tensor w, Tensor gw, Tensor gx, Int32 n, Int32 groups)",
        "Void ActivationShuffleBatchNormBackward(Tensor y, Tensor gy, Tensor gSkip, Int32 groups, Activation activation, Tensor x, Tensor gamma, Tensor savedMean, Tensor savedInvStd, Tensor gx, Tensor gGamma, Tensor gBeta, Int32 n)",
        "Void BatchNormShuffleAddActivation(Tensor x, Tensor gamma, Tensor beta, Tensor savedMean, Tensor savedInvStd, Tensor runningMean, Tensor runningVar, Tensor skip, Tensor y, Int32 n, Single momentum, Single epsilon, Int32 groups, Activation activation)",
        "OpProfiler get_Profiler()",
        "Void set_Profiler(OpProfiler value)",
    ];

    [Fact]
    public void Ops_has_exactly_the_agreed_public_methods()
    {
        var actual = typeof(Ops).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Select(m => $"{m.ReturnType.Name} {m.Name}({string.Join(", ", m.GetParameters().Select(p => $"{p.ParameterType.Name} {p.Name}"))})")
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(Expected.OrderBy(s => s, StringComparer.Ordinal).ToArray(), actual);
    }

    [Fact]
    public void Device_exposes_ops()
    {
        var property = typeof(Device).GetProperty("Ops", BindingFlags.Public | BindingFlags.Instance);
        Assert.NotNull(property);
        Assert.Equal(typeof(Ops), property.PropertyType);
    }
}
