namespace Igcv2.Kernels;

/// <summary>
/// Sums per-channel partial statistics across the processes of a data-parallel job (synchronised batch norm).
/// When <see cref="Ops.StatisticsReducer"/> is set, <see cref="Ops.BatchNormTraining"/> and
/// <see cref="Ops.BatchNormBackward"/> reduce their per-channel sums through it between computing the
/// statistics and using them, so every process normalises with the statistics of the global batch.
/// </summary>
public interface IStatisticsReducer
{
    /// <summary>Replaces every element of <paramref name="values"/> by its sum over all processes (every process calls it in the same order).</summary>
    void SumStatistics(Span<double> values);
}
