namespace Igcv2.Data;

/// <summary>
/// A mini-batch on the host: <see cref="Count"/> images in NCHW float32 (normalised, augmented) and their
/// class indices stored as floats (the form the loss kernel reads). Arrays may be longer than needed
/// when a loader reuses them; only the first <see cref="Count"/> samples are valid.
/// </summary>
public sealed record Batch(float[] Images, float[] Labels, int Count);
