namespace Igcv2;

/// <summary>How the interleaving permutation P_l appears in an exported ONNX graph.</summary>
public enum OnnxShuffle
{
    /// <summary>
    /// Reshape [N, G, C/G, H*W], Transpose (0, 2, 1, 3), Reshape [N, C, H, W]: the channel shuffle as
    /// ShuffleNet exports it; every runtime and converter knows the pattern.
    /// </summary>
    ReshapeTranspose,

    /// <summary>
    /// Gather on axis 1 with the permutation as an int64 constant: one node that states the permutation
    /// outright (<c>out[o] = in[indices[o]]</c>).
    /// </summary>
    Gather,
}

/// <summary>Settings of <see cref="Onnx.Save(IModel, string, OnnxExportOptions?)"/>; the defaults are what the tests run in ONNX Runtime.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The smallest opset the exporter writes: Conv, BatchNormalization, Gemm... as of ONNX 1.8.</summary>
    public const int MinimumOpset = 13;

    /// <summary>The default options.</summary>
    public static OnnxExportOptions Default { get; } = new();

    /// <summary>
    /// The default-domain opset the model declares, 13 or later: the ops and attributes written mean the same
    /// from 13 on (later versions of BatchNormalization and Reshape only add types and optional behaviour).
    /// </summary>
    public int Opset { get; init; } = MinimumOpset;

    /// <summary>How the channel shuffles are written.</summary>
    public OnnxShuffle Shuffle { get; init; } = OnnxShuffle.ReshapeTranspose;

    /// <summary>The graph's name; null uses the model's class name.</summary>
    public string? GraphName { get; init; }

    /// <summary>The symbolic batch dimension of <c>input</c> and <c>logits</c>.</summary>
    public string BatchDimension { get; init; } = "N";

    /// <summary>Free text stored as the model's doc_string (e.g. where the weights came from).</summary>
    public string? Description { get; init; }
}
