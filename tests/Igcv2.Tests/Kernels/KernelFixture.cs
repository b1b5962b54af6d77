using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

/// <summary>One CPU device per launcher, shared by every kernel test (creating an ILGPU context is not free).</summary>
public sealed class KernelFixture : IDisposable
{
    public KernelFixture()
    {
        Host = Device.Create(DeviceKind.Cpu, CpuLauncher.HostParallel);
        Accelerator = Device.Create(DeviceKind.Cpu, CpuLauncher.Accelerator);
    }

    public Device Host { get; }

    public Device Accelerator { get; }

    public Device For(CpuLauncher launcher) => launcher == CpuLauncher.HostParallel ? Host : Accelerator;

    public void Dispose()
    {
        Host.Dispose();
        Accelerator.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<KernelFixture>
{
    public const string Name = "Kernels";
}

/// <summary>
/// A BN layer's tensors for a kernel test: gamma and beta random from their seeds, the saved batch statistics left for
/// a training forward to write, the running statistics filled with <paramref name="runningMean"/> and <paramref name="runningVar"/>.
/// </summary>
internal sealed class NormTensors : IDisposable
{
    public NormTensors(Device device, int channels, int gammaSeed, int betaSeed, float runningMean = 0f, float runningVar = 1f)
    {
        Gamma = T.Random(device, new Random(gammaSeed), channels);
        Beta = T.Random(device, new Random(betaSeed), channels);
        Mean = device.Allocate(channels);
        InvStd = device.Allocate(channels);
        RunningMean = device.Allocate(channels);
        RunningVar = device.Allocate(channels);
        device.Ops.Fill(RunningMean, runningMean);
        device.Ops.Fill(RunningVar, runningVar);
    }

    public Tensor Gamma { get; }

    public Tensor Beta { get; }

    public Tensor Mean { get; }

    public Tensor InvStd { get; }

    public Tensor RunningMean { get; }

    public Tensor RunningVar { get; }

    public void Dispose()
    {
        foreach (var t in new[] { Gamma, Beta, Mean, InvStd, RunningMean, RunningVar }) t.Dispose();
    }
}

/// <summary>Helpers: random inputs, NaN-poisoned outputs, tolerant comparisons.</summary>
internal static class T
{
    public static readonly CpuLauncher[] Launchers = [CpuLauncher.HostParallel, CpuLauncher.Accelerator];

    public static Tensor Random(Device device, Random random, params int[] shape)
    {
        var t = device.Allocate(shape);
        var values = new float[t.Length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        t.CopyFrom(values);
        return t;
    }

    public static Tensor Poisoned(Device device, params int[] shape)
    {
        var t = device.Allocate(shape);
        var values = new float[t.Length];
        Array.Fill(values, float.NaN);
        t.CopyFrom(values);
        return t;
    }

    public static Tensor From(Device device, float[] values, params int[] shape)
    {
        var t = device.Allocate(shape);
        t.CopyFrom(values);
        return t;
    }

    public static Labels Labels(Device device, params int[] values)
    {
        var labels = device.AllocateLabels(values.Length);
        labels.CopyFrom(values);
        return labels;
    }

    public static double[] D(Tensor t) => Array.ConvertAll(t.ToArray(), v => (double)v);

    /// <summary>|actual - expected| &lt;= tolerance * (1 + |expected|) for the first <paramref name="count"/> values.</summary>
    public static void Close(double[] expected, float[] actual, double tolerance, string what, int count = -1)
    {
        if (count < 0) count = expected.Length;
        for (int i = 0; i < count; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(a - e) <= tolerance * (1 + Math.Abs(e))))
            {
                Assert.Fail($"{what}[{i}]: expected {e:G9}, got {a:G9} (tolerance {tolerance:G3}).");
            }
        }
    }

    /// <summary>The values from <paramref name="start"/> on are still NaN: nothing wrote past the n samples.</summary>
    public static void Untouched(float[] actual, int start, string what)
    {
        for (int i = start; i < actual.Length; i++)
        {
            if (!float.IsNaN(actual[i])) Assert.Fail($"{what}[{i}] beyond the first n samples was written ({actual[i]}).");
        }
    }

    /// <summary>Central differences of a double-precision scalar function, one coordinate of <paramref name="at"/> at a time.</summary>
    public static double[] Gradient(Func<double[], double> f, double[] at, double h = 1e-4)
    {
        var grad = new double[at.Length];
        var p = (double[])at.Clone();
        for (int i = 0; i < at.Length; i++)
        {
            p[i] = at[i] + h;
            double up = f(p);
            p[i] = at[i] - h;
            double down = f(p);
            p[i] = at[i];
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    public static double Weighted(double[] values, double[] weights, int count)
    {
        double sum = 0;
        for (int i = 0; i < count; i++) sum += values[i] * weights[i];
        return sum;
    }
}
