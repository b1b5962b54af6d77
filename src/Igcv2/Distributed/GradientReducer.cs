using System.Diagnostics;

namespace Igcv2.Distributed;

/// <summary>
/// Sums a model's gradients across the processes of a job in one collective: the model's
/// <see cref="ParameterArena.Gradients"/> is one contiguous buffer, so a step is one MPI_Allreduce of
/// <c>ParameterCount</c> floats (in place on the CPU device, whose tensors are host memory; through one pinned
/// host array on CUDA). A model without an arena has its gradients packed into one host array and back.
/// </summary>
public sealed class GradientReducer
{
    private readonly IModel model;
    private readonly ICommunicator communicator;
    private readonly float[]? staging;

    public GradientReducer(IModel model, ICommunicator communicator)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(communicator);
        this.model = model;
        this.communicator = communicator;
        Count = model.Arena?.Length ?? model.Parameters.Sum(p => p.Length);
        if (Count > int.MaxValue) throw new ArgumentException($"{Count} gradients do not fit one MPI call (at most 2^31 - 1).", nameof(model));
        if (model.Arena is null || !model.Device.IsCpu) staging = GC.AllocateUninitializedArray<float>((int)Count, pinned: true);
    }

    /// <summary>Gradient floats per collective.</summary>
    public long Count { get; }

    /// <summary>Bytes each process contributes per collective.</summary>
    public long Bytes => Count * sizeof(float);

    /// <summary>Collectives run so far.</summary>
    public long Calls { get; private set; }

    /// <summary>Wall time spent in them (copies included), seconds.</summary>
    public double Seconds { get; private set; }

    /// <summary>
    /// Replaces every gradient by its sum over the processes. The trainer scales each process's loss gradient by
    /// its share of the global batch (n_local / N), so this sum is the mean gradient of the global batch; with
    /// equal shares it is PyTorch DDP's average.
    /// </summary>
    public void Sum()
    {
        if (communicator.Size == 1) return;
        var clock = Stopwatch.StartNew();
        var arena = model.Arena;
        if (arena is not null && staging is null)
        {
            communicator.AllreduceSum(arena.Gradients.HostSpan);
        }
        else if (arena is not null)
        {
            arena.Gradients.CopyTo(staging);
            communicator.AllreduceSum(staging);
            arena.Gradients.CopyFrom(staging);
        }
        else
        {
            var offset = 0;
            foreach (var p in model.Parameters)
            {
                p.GetGradient().CopyTo(staging.AsSpan(offset));
                offset += (int)p.Length;
            }
            communicator.AllreduceSum(staging);
            offset = 0;
            foreach (var p in model.Parameters)
            {
                p.Gradient!.CopyFrom(staging.AsSpan(offset, (int)p.Length));
                offset += (int)p.Length;
            }
        }
        Calls++;
        Seconds += clock.Elapsed.TotalSeconds;
    }

    /// <summary>The plain average (sum / processes), for a loop whose processes each computed a mean over equal shares.</summary>
    public void Average()
    {
        if (communicator.Size == 1) return;
        Sum();
        var scale = 1f / communicator.Size;
        foreach (var p in model.Parameters)
        {
            var g = p.GetGradient();
            for (var i = 0; i < g.Length; i++) g[i] *= scale;
            p.Gradient!.CopyFrom(g);
        }
    }

    /// <summary>
    /// Copies process <paramref name="root"/>'s trainable values and BN running statistics to every process
    /// (PyTorch DDP does so when it wraps a model), so that the processes start from one state.
    /// </summary>
    public static void BroadcastState(IModel model, ICommunicator communicator, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(communicator);
        if (communicator.Size == 1) return;
        IEnumerable<Tensor> tensors = model.Arena is { } arena ? [arena.Values] : model.Parameters.Select(p => p.Value);
        foreach (var t in tensors.Concat(model.Buffers.Select(b => b.Value))) Broadcast(t, communicator, root);
    }

    internal static void Broadcast(Tensor t, ICommunicator communicator, int root)
    {
        if (t.Device.IsCpu)
        {
            communicator.Broadcast(t.HostSpan, root);
            return;
        }
        var values = t.ToArray();
        communicator.Broadcast(values, root);
        t.CopyFrom(values);
    }
}
