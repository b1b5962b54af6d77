using System.Diagnostics;
using System.Text;

namespace Igcv2.Tests.Distributed;

/// <summary>Starts <c>mpiexec -n P dotnet &lt;dll&gt; ...</c> (or the dll alone with P = 0) and waits for it.</summary>
internal static class MpiJob
{
    /// <summary>The multi-process test host and the main job, copied beside the tests by their project references.</summary>
    public static string Host => Path.Combine(AppContext.BaseDirectory, "Igcv2.MpiHost.dll");

    public static string MainJob => Path.Combine(AppContext.BaseDirectory, "Igcv2.Train.dll");

    public static string Mpiexec
    {
        get
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, "mpiexec");
                if (File.Exists(candidate)) return candidate;
            }
            throw new InvalidOperationException("mpiexec is not on PATH: the multi-process tests need MPICH (apt-get install mpich; .ci/run installs it).");
        }
    }

    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s:\n{Output}";
    }

    /// <summary>Runs <paramref name="dll"/> on <paramref name="processes"/> MPI processes (0: alone, no mpiexec), one CPU thread each.</summary>
    public static Result Run(int processes, string dll, string arguments, int timeoutSeconds = 180)
    {
        var start = processes > 0
            ? new ProcessStartInfo(Mpiexec, $"-n {processes} dotnet \"{dll}\" {arguments}")
            : new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}");
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        // A fixed thread count per process: the suite runs on 2 cores, and a process's kernels use at most one
        // thread whatever P is, so P processes do not fight over the cores.
        start.Environment["DOTNET_PROCESSOR_COUNT"] = "1";
        start.Environment["IGCV2_DEVICE"] = "cpu";
        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{start.FileName} {start.Arguments} did not end within {timeoutSeconds} s:\n{output}");
        }
        process.WaitForExit();
        lock (output) return new Result(process.ExitCode, output.ToString(), clock.Elapsed);
    }

    public static string TempDirectory(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"igcv2-mpi-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
