using Igcv2.Kernels;

namespace Igcv2.Distributed;

/// <summary>
/// The processes of a data-parallel job, as the trainer needs them: who am I (<see cref="Rank"/> of
/// <see cref="Size"/>, <see cref="LocalRank"/> on this machine), sums across all of them, a broadcast, and a
/// way to end the whole job. <see cref="SingleProcessCommunicator"/> is the one-process job (every collective is
/// the identity); <see cref="MpiCommunicator"/> runs over an MPICH-ABI MPI. Every process must make the same
/// collective calls in the same order, as in MPI.
/// </summary>
public interface ICommunicator : IStatisticsReducer, IDisposable
{
    /// <summary>This process's index, 0..<see cref="Size"/>-1; process 0 prints and writes files.</summary>
    int Rank { get; }

    /// <summary>The number of processes in the job.</summary>
    int Size { get; }

    /// <summary>This process's index among the processes on its machine (the GPU it should use).</summary>
    int LocalRank { get; }

    /// <summary>The number of processes on this machine.</summary>
    int LocalSize { get; }

    /// <summary>A short description ("1 process", "MPI: 4 processes on 2 machines (MPICH 4.0.2)").</summary>
    string Description { get; }

    /// <summary>Replaces <paramref name="values"/> by the element-wise sum over all processes.</summary>
    void AllreduceSum(Span<float> values);

    /// <inheritdoc cref="AllreduceSum(Span{float})"/>
    void AllreduceSum(Span<double> values);

    /// <summary>Copies process <paramref name="root"/>'s <paramref name="values"/> to every process.</summary>
    void Broadcast(Span<float> values, int root = 0);

    /// <summary>Returns when every process has called it.</summary>
    void Barrier();

    /// <summary>
    /// Ends the whole job now with <paramref name="exitCode"/> after writing <paramref name="message"/> to
    /// standard error (MPI_Abort: the other processes are killed wherever they are, no hang).
    /// </summary>
    void Abort(int exitCode, string message);
}
