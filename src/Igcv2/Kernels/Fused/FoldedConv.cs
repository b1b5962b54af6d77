using Igcv2.Design;
using Igcv2.Models;

namespace Igcv2.Kernels.Fused;

/// <summary>
/// One step of a fused inference chain: the group convolution W_l with BN_l folded into its weights and a bias
/// (w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps), per output channel), the
/// activation after it, and the permutation P_l folded into the write index: output channel c is stored at
/// <see cref="Destination"/>[c], the position P_l moves it to, so no shuffle pass is left.
/// </summary>
internal sealed class FoldedConv
{
    private readonly Conv2dLayer conv;
    private readonly BatchNormLayer norm;

    public FoldedConv(GroupConvPlan plan, Conv2dLayer conv, BatchNormLayer norm, PermutationPlan? permutation, Activation activation)
    {
        Plan = plan;
        this.conv = conv;
        this.norm = norm;
        Activation = activation;
        Destination = new int[plan.OutChannels];
        if (permutation is null || permutation.IsIdentity)
        {
            for (var c = 0; c < Destination.Length; c++) Destination[c] = c;
        }
        else
        {
            // P_l gathers out[o] = in[Source[o]]: channel Source[o] of the convolution lands at position o.
            var source = permutation.Source();
            for (var o = 0; o < source.Length; o++) Destination[source[o]] = o;
        }
        Weights = new float[plan.Weights];
        Bias = new float[plan.OutChannels];
    }

    public GroupConvPlan Plan { get; }

    /// <summary>[C_out, K, k, k]: the convolution's weights times its BN scale.</summary>
    public float[] Weights { get; }

    /// <summary>[C_out]: BN's shift after the scale.</summary>
    public float[] Bias { get; }

    /// <summary>Where P_l puts each output channel.</summary>
    public int[] Destination { get; }

    /// <summary>What follows BN_l (for the last step of a block: nothing; the block's epilogue applies its own).</summary>
    public Activation Activation { get; }

    /// <summary>Reads the current weights and running statistics (cheap next to a forward pass, so done before every one).</summary>
    public void Fold()
    {
        var w = conv.Weight.Value.HostSpan;
        var gamma = norm.Gamma.Value.HostSpan;
        var beta = norm.Beta.Value.HostSpan;
        var mean = norm.RunningMean.Value.HostSpan;
        var variance = norm.RunningVariance.Value.HostSpan;
        var perOutput = Weights.Length / Bias.Length;
        for (var c = 0; c < Bias.Length; c++)
        {
            var scale = gamma[c] / MathF.Sqrt(variance[c] + BatchNormLayer.Epsilon);
            Bias[c] = beta[c] - mean[c] * scale;
            var row = w.Slice(c * perOutput, perOutput);
            var folded = Weights.AsSpan(c * perOutput, perOutput);
            for (var i = 0; i < perOutput; i++) folded[i] = row[i] * scale;
        }
    }
}
