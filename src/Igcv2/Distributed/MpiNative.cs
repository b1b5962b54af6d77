using System.Reflection;
using System.Runtime.InteropServices;

namespace Igcv2.Distributed;

/// <summary>
/// The few MPI calls data-parallel training needs, bound directly to an MPICH-ABI library (MPICH, Intel MPI,
/// MVAPICH, Cray MPICH: <c>libmpich.so.12</c> or <c>libmpi.so.12</c>). In that ABI handles are 32-bit integers;
/// the constants below are those of MPICH 4.0.2's <c>mpi.h</c> (/usr/include/x86_64-linux-gnu/mpich/mpi.h), which
/// the whole family shares. Open MPI's handles are pointers: it is not supported. <c>IGCV2_MPI_LIBRARY</c>
/// names another library file.
/// </summary>
internal static unsafe partial class MpiNative
{
    private const string Library = "igcv2-mpi";

    public const int Success = 0;
    public const int CommWorld = 0x44000000;
    public const int CommNull = 0x04000000;
    public const int Float = 0x4c00040a;
    public const int Double = 0x4c00080b;
    public const int Sum = 0x58000003;
    public const int InfoNull = 0x1c000000;
    public const int CommTypeShared = 1;
    public const int ThreadFunneled = 1;
    public const int ErrorsReturn = 0x54000001;
    public const int MaxErrorString = 512;
    public const int MaxProcessorName = 128;
    public const int MaxLibraryVersionString = 8192;
    public static readonly void* InPlace = (void*)-1;

    static MpiNative() => NativeLibrary.SetDllImportResolver(typeof(MpiNative).Assembly, Resolve);

    /// <summary>Loads the library now; false (with the reason) when no MPICH-ABI library is found.</summary>
    public static bool TryLoad(out string message)
    {
        try
        {
            var version = new byte[MaxLibraryVersionString];
            var length = 0;
            fixed (byte* text = version) MPI_Get_library_version(text, &length);
            message = System.Text.Encoding.UTF8.GetString(version, 0, Math.Clamp(length, 0, version.Length)).TrimEnd('\0').Trim();
            return true;
        }
        catch (DllNotFoundException e)
        {
            message = e.Message;
            return false;
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library) return 0;
        var configured = Environment.GetEnvironmentVariable("IGCV2_MPI_LIBRARY");
        string[] candidates = string.IsNullOrEmpty(configured)
            ? ["libmpich.so.12", "libmpi.so.12", "libmpich.so", "msmpi.dll"]
            : [configured];
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        }
        throw new DllNotFoundException(
            $"No MPICH-ABI MPI library found (tried {string.Join(", ", candidates)}). Install MPICH (apt-get install mpich) " +
            "or set IGCV2_MPI_LIBRARY to the library of an MPICH-ABI MPI (Intel MPI, MVAPICH, Cray MPICH).");
    }

    [LibraryImport(Library)] public static partial int MPI_Initialized(int* flag);
    [LibraryImport(Library)] public static partial int MPI_Finalized(int* flag);
    [LibraryImport(Library)] public static partial int MPI_Init_thread(int* argc, byte*** argv, int required, int* provided);
    [LibraryImport(Library)] public static partial int MPI_Finalize();
    [LibraryImport(Library)] public static partial int MPI_Comm_rank(int comm, int* rank);
    [LibraryImport(Library)] public static partial int MPI_Comm_size(int comm, int* size);
    [LibraryImport(Library)] public static partial int MPI_Comm_split_type(int comm, int splitType, int key, int info, int* newComm);
    [LibraryImport(Library)] public static partial int MPI_Comm_free(int* comm);
    [LibraryImport(Library)] public static partial int MPI_Comm_set_errhandler(int comm, int handler);
    [LibraryImport(Library)] public static partial int MPI_Allreduce(void* send, void* receive, int count, int datatype, int op, int comm);
    [LibraryImport(Library)] public static partial int MPI_Bcast(void* buffer, int count, int datatype, int root, int comm);
    [LibraryImport(Library)] public static partial int MPI_Barrier(int comm);
    [LibraryImport(Library)] public static partial int MPI_Abort(int comm, int errorCode);
    [LibraryImport(Library)] public static partial int MPI_Get_processor_name(byte* name, int* length);
    [LibraryImport(Library)] public static partial int MPI_Get_library_version(byte* version, int* length);
    [LibraryImport(Library)] public static partial int MPI_Error_string(int code, byte* text, int* length);

    /// <summary>Throws with MPI's own text when <paramref name="code"/> is not MPI_SUCCESS.</summary>
    public static void Check(int code, string call)
    {
        if (code == Success) return;
        var text = stackalloc byte[MaxErrorString];
        int length = 0;
        var message = MPI_Error_string(code, text, &length) == Success ? Marshal.PtrToStringUTF8((nint)text, length) : $"error {code}";
        throw new MpiException($"{call} failed: {message}");
    }
}

/// <summary>An MPI call returned an error.</summary>
public sealed class MpiException(string message) : Exception(message);
