namespace Igcv2.Distributed;

/// <summary>A job of one process: every collective leaves its data as it is.</summary>
public sealed class SingleProcessCommunicator : ICommunicator
{
    public static SingleProcessCommunicator Instance { get; } = new();

    public int Rank => 0;

    public int Size => 1;

    public int LocalRank => 0;

    public int LocalSize => 1;

    public string Description => "1 process";

    public void AllreduceSum(Span<float> values) { }

    public void AllreduceSum(Span<double> values) { }

    public void SumStatistics(Span<double> values) { }

    public void Broadcast(Span<float> values, int root = 0) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);

    public void Barrier() { }

    public void Abort(int exitCode, string message)
    {
        Console.Error.WriteLine(message);
        Console.Error.Flush();
        Environment.Exit(exitCode);
    }

    public void Dispose() { }
}
