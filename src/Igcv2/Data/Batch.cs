namespace Igcv2.Data;

/// <summary>
/// A mini-batch on the host: <see cref="Count"/> images in NCHW float32 (normalised, augmented) and their
/// class indices (what <see cref="Igcv2.Labels"/> carries to the loss and the metrics). Arrays may be longer than
/// needed when a loader reuses them; only the first <see cref="Count"/> samples are valid.
/// </summary>
public sealed record Batch(float[] Images, int[] Labels, int Count);
