using System.Runtime.InteropServices;
using static Igcv2.Distributed.MpiNative;

namespace Igcv2.Distributed;

/// <summary>
/// The processes <c>mpiexec</c> (or <c>srun</c>) started, through an MPICH-ABI MPI (a P/Invoke binding of the
/// dozen calls used, <see cref="MpiNative"/>). Collectives are MPI_Allreduce (MPI_SUM, in place) and MPI_Bcast
/// on MPI_COMM_WORLD; <see cref="LocalRank"/> comes from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED). Only the
/// thread that created it may call it (MPI_THREAD_FUNNELED). An exception that reaches the top of any thread
/// aborts the whole job (MPI_Abort) with a message naming this process, so a failure never leaves the other
/// processes waiting in a collective.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    private readonly bool ownsMpi;
    private bool disposed;

    private MpiCommunicator(bool ownsMpi, int rank, int size, int localRank, int localSize, string description)
    {
        this.ownsMpi = ownsMpi;
        Rank = rank;
        Size = size;
        LocalRank = localRank;
        LocalSize = localSize;
        Description = description;
    }

    public int Rank { get; }

    public int Size { get; }

    public int LocalRank { get; }

    public int LocalSize { get; }

    public string Description { get; }

    /// <summary>The machine this process runs on, as MPI names it.</summary>
    public string ProcessorName { get; private set; } = "";

    /// <summary>The operating-system process id of every process, in rank order.</summary>
    public IReadOnlyList<int> ProcessIds { get; private set; } = [];

    /// <summary>
    /// True when this process was started by an MPI launcher: Hydra's and Slurm's PMI (<c>PMI_RANK</c>,
    /// <c>PMI_SIZE</c>), PMIx (<c>PMIX_RANK</c>) or MPICH's <c>MPI_LOCALNRANKS</c>.
    /// </summary>
    public static bool IsLaunchedByMpi =>
        new[] { "PMI_RANK", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS" }.Any(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v)));

    /// <summary>Initialises MPI (unless something else already did) and describes MPI_COMM_WORLD.</summary>
    /// <exception cref="DllNotFoundException">No MPICH-ABI library is installed.</exception>
    public static MpiCommunicator Initialize()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE")))
        {
            throw new PlatformNotSupportedException(
                "This process was started by Open MPI's mpirun; Igcv2 binds the MPICH ABI (MPICH, Intel MPI, MVAPICH, Cray MPICH), whose handles differ. Launch with MPICH's mpiexec.");
        }
        if (!TryLoad(out var version)) throw new DllNotFoundException(version);
        int initialized, provided;
        Check(MPI_Initialized(&initialized), "MPI_Initialized");
        if (initialized == 0) Check(MPI_Init_thread(null, null, ThreadFunneled, &provided), "MPI_Init_thread");
        Check(MPI_Comm_set_errhandler(CommWorld, ErrorsReturn), "MPI_Comm_set_errhandler");
        int rank, size, localRank, localSize, node;
        Check(MPI_Comm_rank(CommWorld, &rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(CommWorld, &size), "MPI_Comm_size");
        Check(MPI_Comm_split_type(CommWorld, CommTypeShared, rank, InfoNull, &node), "MPI_Comm_split_type");
        Check(MPI_Comm_rank(node, &localRank), "MPI_Comm_rank");
        Check(MPI_Comm_size(node, &localSize), "MPI_Comm_size");
        Check(MPI_Comm_free(&node), "MPI_Comm_free");
        double machines = localRank == 0 ? 1 : 0;
        Check(MPI_Allreduce(InPlace, &machines, 1, MpiNative.Double, MpiNative.Sum, CommWorld), "MPI_Allreduce");
        // Every process's id, in rank order: a process that is killed cannot say who it was, but its id is in the
        // launcher's message.
        var ids = new double[size];
        ids[rank] = Environment.ProcessId;
        fixed (double* p = ids) Check(MPI_Allreduce(InPlace, p, size, MpiNative.Double, MpiNative.Sum, CommWorld), "MPI_Allreduce");
        var name = stackalloc byte[MaxProcessorName + 1];
        int nameLength = 0;
        MPI_Get_processor_name(name, &nameLength);
        var firstLine = version.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "MPI";
        var library = System.Text.RegularExpressions.Regex.Replace(firstLine.Replace("Version:", ""), @"\s+", " ").Trim();
        var description = $"MPI: {size} process{(size == 1 ? "" : "es")} on {machines:0} machine{(machines == 1 ? "" : "s")} ({library})";
        var communicator = new MpiCommunicator(initialized == 0, rank, size, localRank, localSize, description)
        {
            ProcessorName = Marshal.PtrToStringUTF8((nint)name, nameLength),
            ProcessIds = ids.Select(v => (int)v).ToArray(),
        };
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            communicator.Abort(70, $"unhandled {e.ExceptionObject.GetType().Name}: {(e.ExceptionObject as Exception)?.Message}");
        return communicator;
    }

    public void AllreduceSum(Span<float> values)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (values.IsEmpty) return;
        fixed (float* p = values) Check(MPI_Allreduce(InPlace, p, values.Length, MpiNative.Float, MpiNative.Sum, CommWorld), "MPI_Allreduce");
    }

    public void AllreduceSum(Span<double> values)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (values.IsEmpty) return;
        fixed (double* p = values) Check(MPI_Allreduce(InPlace, p, values.Length, MpiNative.Double, MpiNative.Sum, CommWorld), "MPI_Allreduce");
    }

    /// <summary>Sums device memory in place: valid only where the MPI is CUDA-aware.</summary>
    internal void AllreduceSum(nint devicePointer, int count)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Check(MPI_Allreduce(InPlace, (void*)devicePointer, count, MpiNative.Float, MpiNative.Sum, CommWorld), "MPI_Allreduce");
    }

    public void SumStatistics(Span<double> values) => AllreduceSum(values);

    public void Broadcast(Span<float> values, int root = 0)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        if (values.IsEmpty) return;
        fixed (float* p = values) Check(MPI_Bcast(p, values.Length, MpiNative.Float, root, CommWorld), "MPI_Bcast");
    }

    public void Barrier()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Check(MPI_Barrier(CommWorld), "MPI_Barrier");
    }

    public void Abort(int exitCode, string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"igcv2: process {Rank} of {Size}{(ProcessorName.Length > 0 ? $" on {ProcessorName}" : "")} failed: {message}");
        Console.Error.WriteLine("igcv2: aborting the MPI job (MPI_Abort).");
        Console.Error.Flush();
        // Give the launcher's output forwarding a moment to pass the message on before the job is torn down.
        Thread.Sleep(200);
        MPI_Abort(CommWorld, exitCode == 0 ? 1 : exitCode);
        Environment.Exit(exitCode == 0 ? 1 : exitCode);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        int finalized;
        if (ownsMpi && MPI_Finalized(&finalized) == Success && finalized == 0) MPI_Finalize();
    }
}

/// <summary>Picks the communicator of the current process.</summary>
public static class Communicator
{
    /// <summary>
    /// <see cref="MpiCommunicator"/> when an MPI launcher started this process (<see cref="MpiCommunicator.IsLaunchedByMpi"/>),
    /// else <see cref="SingleProcessCommunicator.Instance"/>.
    /// </summary>
    public static ICommunicator FromEnvironment() =>
        MpiCommunicator.IsLaunchedByMpi ? MpiCommunicator.Initialize() : SingleProcessCommunicator.Instance;
}
