using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

[Collection(KernelCollection.Name)]
public sealed class OpProfilerTests(KernelFixture fixture)
{
    public static TheoryData<CpuLauncher> Launchers() => new(T.Launchers);

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Records_each_op_under_its_name_and_shape_while_set(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        var random = new Random(1);
        using var x = T.Random(device, random, 2, 4, 6, 6);
        using var w = T.Random(device, random, 4, 1, 3, 3);
        using var y = device.Allocate(2, 4, 3, 3);
        using var z = device.Allocate(2, 4, 3, 3);

        device.Ops.Conv2d(x, w, y, 2, 4, 2);    // before the profiler: not recorded
        var profiler = new OpProfiler();
        device.Ops.Profiler = profiler;
        try
        {
            device.Ops.Conv2d(x, w, y, 2, 4, 2);
            device.Ops.Conv2d(x, w, y, 2, 4, 2);
            device.Ops.Relu(y, z, 2);
        }
        finally
        {
            device.Ops.Profiler = null;
        }
        device.Ops.Relu(y, z, 2);                // after: not recorded

        var timings = profiler.Timings;
        Assert.Equal(2, timings.Count);
        var conv = Assert.Single(timings, t => t.Op == nameof(Ops.Conv2d));
        Assert.Equal("3x3 s2 g4 4->4 6x6", conv.Shape);
        Assert.Equal(2, conv.Calls);
        var relu = Assert.Single(timings, t => t.Op == nameof(Ops.Relu));
        Assert.Equal("[2, 4, 3, 3]", relu.Shape);
        Assert.Equal(1, relu.Calls);
        Assert.Equal(timings.Sum(t => t.Total.Ticks), profiler.Total.Ticks, tolerance: 1);

        var table = profiler.Format(top: 5, perCallOf: 1);
        Assert.Contains("| Conv2d | 3x3 s2 g4 4->4 6x6 | 2 |", table);
        Assert.Contains("| **Relu** | all 1 shapes | 1 |", table);

        profiler.Clear();
        Assert.Empty(profiler.Timings);
    }
}
